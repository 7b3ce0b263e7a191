// Over HTTP with supertest against the fastify server. (fastify.inject is not usable under
// Jest on Node 20: light-my-request depends on the ESM-only cookie@2, which Jest cannot require
// before Node 24.9.)
import { createLogger, loadConfig, type ServiceHandle } from '@secure-ci/service-kit';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import pkg from '../package.json';
import { buildApp } from './app';
import { configSchema } from './config';
import { ProductStore } from './products';

const silent = createLogger({ name: 'catalog', level: 'silent' });
const handles: Array<ServiceHandle<FastifyInstance>> = [];

async function start(env: Record<string, string> = {}, store?: ProductStore) {
  const config = loadConfig(configSchema, { env });
  const handle = await buildApp(config, { logger: silent, store });
  handles.push(handle);
  await handle.app.ready();
  return { handle, http: request(handle.app.server) };
}

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

const fields = (body: { issues: Array<{ field: string }> }) => body.issues.map((i) => i.field).sort();
const headset = { sku: 'HD-004', name: 'Headset', priceCents: 4999 };

describe('catalog', () => {
  it('has PORT 3001 by default', () => {
    expect(loadConfig(configSchema, { env: {} }).PORT).toBe(3001);
  });

  it('GET / names the service and its package version', async () => {
    const { http } = await start();
    const res = await http.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'catalog', version: pkg.version });
  });

  it('reports health as application/health+json; ready once started', async () => {
    const { handle, http } = await start();
    let res = await http.get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toBe('application/health+json');
    handle.context.health.markStarted();
    res = await http.get('/health/ready');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ status: 'pass', serviceId: 'catalog' });
    for (const url of ['/health/live', '/health']) {
      res = await http.get(url);
      expect([url, res.status, res.headers['content-type']]).toEqual([url, 200, 'application/health+json']);
    }
  });

  it('GET /config redacts API_KEY', async () => {
    const { http } = await start({ API_KEY: 'catalog-secret-0123456789' });
    const res = await http.get('/config').set('authorization', 'Bearer catalog-secret-0123456789');
    expect((await http.get('/config')).status).toBe(401); // /config is behind the API key when there is one
    expect(res.body).toEqual({ PORT: 3001, HOST: '0.0.0.0', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: 10000, API_KEY: '[REDACTED]' });
    expect(res.text).not.toContain('catalog-secret-0123456789');
  });

  it('lists the seeded products', async () => {
    const { http } = await start();
    const res = await http.get('/products');
    expect(res.status).toBe(200);
    expect(res.body.items.map((p: { id: string }) => p.id)).toEqual(['p-1', 'p-2', 'p-3']);
  });

  it('gets one product, 404 for an unknown id, 400 for a malformed id', async () => {
    const { http } = await start();
    expect((await http.get('/products/p-3')).body).toEqual({ id: 'p-3', sku: 'MN-003', name: '27-inch monitor', priceCents: 24999 });
    const missing = await http.get('/products/p-999');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'Not Found', message: 'Product not found' });
    const bad = await http.get('/products/..%2Fetc');
    expect(bad.status).toBe(400);
    expect(fields(bad.body)).toEqual(['id']);
  });

  it('POST /products creates a product (201, Location) that can be read back', async () => {
    const { http } = await start();
    const res = await http.post('/products').send(headset);
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/products/p-4');
    expect(res.body).toEqual({ id: 'p-4', ...headset });
    expect((await http.get('/products/p-4')).body.name).toBe('Headset');
  });

  it('refuses a duplicate sku with 409 and a full catalog with 507', async () => {
    const { http } = await start({}, ProductStore.seeded(4));
    expect((await http.post('/products').send(headset)).status).toBe(201);
    const dup = await http.post('/products').send(headset);
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('Conflict');
    expect((await http.post('/products').send({ ...headset, sku: 'OTHER' })).status).toBe(507);
  });

  describe('bad input', () => {
    it('malformed JSON -> 400', async () => {
      const { http } = await start();
      const res = await http.post('/products').set('content-type', 'application/json').send('{"sku": ');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'Bad Request', message: 'Malformed JSON in request body' });
    });

    it('wrong types and unknown fields -> 400 listing every field', async () => {
      const { http } = await start();
      const res = await http.post('/products').send({ sku: 'bad sku!', name: 7, priceCents: 1.5, color: 'red' });
      expect(res.status).toBe(400);
      expect(fields(res.body)).toEqual(['(body)', 'name', 'priceCents', 'sku']);
    });

    it('negative price and blank name -> 400', async () => {
      const { http } = await start();
      const res = await http.post('/products').send({ sku: 'A', name: '  ', priceCents: -1 });
      expect(res.status).toBe(400);
      expect(fields(res.body)).toEqual(['name', 'priceCents']);
    });

    it('oversized body -> 413', async () => {
      const { http } = await start();
      const res = await http
        .post('/products')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ sku: 'A', name: 'x'.repeat(200 * 1024), priceCents: 1 }));
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('Payload Too Large');
    });

    it('non-JSON body -> 415', async () => {
      const { http } = await start();
      const res = await http.post('/products').set('content-type', 'text/plain').send('sku=A');
      expect(res.status).toBe(415);
    });

    it('unknown route -> 404 JSON', async () => {
      const { http } = await start();
      const res = await http.get('/admin');
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'Not Found' });
    });

    it('missing or wrong bearer token when API_KEY is set -> 401; reads stay open', async () => {
      const { http } = await start({ API_KEY: 'catalog-key-0123456789' });
      const missing = await http.post('/products').send(headset);
      expect(missing.status).toBe(401);
      expect(missing.body).toMatchObject({ error: 'Unauthorized' });
      expect((await http.post('/products').set('authorization', 'Bearer nope').send(headset)).status).toBe(401);
      expect((await http.post('/products').set('authorization', 'Bearer catalog-key-0123456789').send(headset)).status).toBe(201);
      expect((await http.get('/products')).status).toBe(200);
    });
  });
});
