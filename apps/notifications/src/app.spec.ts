// Over HTTP with supertest against the fastify server (fastify.inject cannot run under Jest on
// Node 20: light-my-request needs the ESM-only cookie@2).
import { createLogger, loadConfig, type ServiceHandle } from '@secure-ci/service-kit';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import pkg from '../package.json';
import { buildApp } from './app';
import { configSchema } from './config';
import { NotificationStore } from './notifications';

const silent = createLogger({ name: 'notifications', level: 'silent' });
const handles: Array<ServiceHandle<FastifyInstance>> = [];

async function start(env: Record<string, string> = {}, store?: NotificationStore) {
  const handle = await buildApp(loadConfig(configSchema, { env }), { logger: silent, store });
  handles.push(handle);
  await handle.app.ready();
  return { handle, http: request(handle.app.server) };
}

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

const fields = (body: { issues: Array<{ field: string }> }) => body.issues.map((i) => i.field).sort();
const email = { recipient: 'ada@example.com', channel: 'email', message: 'Your order shipped' };

describe('notifications', () => {
  it('has PORT 3003 by default', () => {
    expect(loadConfig(configSchema, { env: {} }).PORT).toBe(3003);
  });

  it('GET / names the service and its package version', async () => {
    const { http } = await start();
    expect((await http.get('/')).body).toEqual({ name: 'notifications', version: pkg.version });
  });

  it('reports health as application/health+json; ready once started', async () => {
    const { handle, http } = await start();
    expect((await http.get('/health/ready')).status).toBe(503);
    handle.context.health.markStarted();
    for (const url of ['/health/ready', '/health/live', '/health']) {
      const res = await http.get(url);
      expect([url, res.status, res.headers['content-type']]).toEqual([url, 200, 'application/health+json']);
    }
  });

  it('GET /config redacts API_KEY', async () => {
    const { http } = await start({ API_KEY: 'notif-secret-0123456789', LOG_LEVEL: 'warn' });
    const res = await http.get('/config').set('authorization', 'Bearer notif-secret-0123456789');
    expect((await http.get('/config')).status).toBe(401); // /config is behind the API key when there is one
    expect(res.body).toEqual({ PORT: 3003, HOST: '0.0.0.0', LOG_LEVEL: 'warn', SHUTDOWN_GRACE_MS: 10000, API_KEY: '[REDACTED]' });
    expect(res.text).not.toContain('notif-secret-0123456789');
  });

  it('POST /notifications queues one (201, Location); list and get it back', async () => {
    const { http } = await start();
    const res = await http.post('/notifications').send(email);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ ...email, status: 'queued' });
    expect(res.headers.location).toBe(`/notifications/${res.body.id}`);
    const sms = await http.post('/notifications').send({ recipient: '+4915112345678', channel: 'sms', message: 'Code 1234' });
    expect(sms.status).toBe(201);
    expect((await http.get(res.headers.location)).body).toEqual(res.body);
    expect((await http.get('/notifications')).body.items).toEqual([res.body, sms.body]);
  });

  it('GET /notifications/:id: 400 for a malformed id, 404 for an unknown one', async () => {
    const { http } = await start();
    const bad = await http.get('/notifications/123');
    expect(bad.status).toBe(400);
    expect(fields(bad.body)).toEqual(['id']);
    const missing = await http.get('/notifications/8a3f2c4e-1b2d-4c5e-8f90-123456789abc');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'Not Found', message: 'Notification not found' });
  });

  it('answers 507 when the inbox is full', async () => {
    const { http } = await start({}, new NotificationStore(0));
    expect((await http.post('/notifications').send(email)).status).toBe(507);
  });

  describe('bad input', () => {
    it('malformed JSON -> 400', async () => {
      const { http } = await start();
      const res = await http.post('/notifications').set('content-type', 'application/json').send('{"channel":"email"');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'Bad Request', message: 'Malformed JSON in request body' });
    });

    it('wrong types, unknown channel, recipient not matching the channel -> 400 with fields', async () => {
      const { http } = await start();
      const types = await http.post('/notifications').send({ recipient: 5, channel: 'email', message: ['x'] });
      expect(types.status).toBe(400);
      expect(fields(types.body)).toEqual(['message', 'recipient']);
      const channel = await http.post('/notifications').send({ ...email, channel: 'pigeon' });
      expect(channel.status).toBe(400);
      expect(fields(channel.body)).toEqual(['channel']);
      const mismatch = await http.post('/notifications').send({ ...email, channel: 'sms' });
      expect(fields(mismatch.body)).toEqual(['recipient']);
    });

    it('oversized body -> 413', async () => {
      const { http } = await start();
      const res = await http
        .post('/notifications')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ ...email, message: 'x'.repeat(120 * 1024) }));
      expect(res.status).toBe(413);
    });

    it('non-JSON body -> 415; unknown route -> 404', async () => {
      const { http } = await start();
      expect((await http.post('/notifications').set('content-type', 'text/plain').send('hi')).status).toBe(415);
      const unknown = await http.put('/notifications');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: 'Not Found' });
    });

    it('missing or wrong bearer token when API_KEY is set -> 401; reads stay open', async () => {
      const { http } = await start({ API_KEY: 'notif-key-0123456789' });
      expect((await http.post('/notifications').send(email)).status).toBe(401);
      expect((await http.post('/notifications').set('authorization', 'Bearer no').send(email)).status).toBe(401);
      expect((await http.post('/notifications').set('authorization', 'Bearer notif-key-0123456789').send(email)).status).toBe(201);
      expect((await http.get('/notifications')).status).toBe(200);
    });
  });
});
