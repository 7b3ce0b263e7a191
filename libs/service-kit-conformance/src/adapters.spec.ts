import request from 'supertest';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import { createExpressService } from '@secure-ci/service-kit-express';
import { createFastifyService } from '@secure-ci/service-kit-fastify';
import { validate } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import type { ServiceHandle } from '@secure-ci/service-kit';
import { captureLogs, itemSchema, requestTarget, testContext, type LogCapture } from './testing/helpers';

const SECRET_ERROR = 'db at 10.1.2.3 said password=hunter2';

type Build = (ctx: ServiceContext) => Promise<ServiceHandle>;

const adapters: Array<[string, Build]> = [
  [
    'express',
    async (ctx) =>
      createExpressService(ctx, (app: Express) => {
        app.post('/items', (req, res) => {
          res.status(201).json(validate(itemSchema, req.body));
        });
        app.get('/boom', async () => {
          throw new Error(SECRET_ERROR);
        });
      }),
  ],
  [
    'fastify',
    (ctx) =>
      createFastifyService(ctx, (app: FastifyInstance) => {
        app.post('/items', async (req, reply) => reply.code(201).send(validate(itemSchema, req.body)));
        app.get('/boom', async () => {
          throw new Error(SECRET_ERROR);
        });
      }),
  ],
];

const UUID = /^[0-9a-f-]{36}$/;

describe.each(adapters)('%s adapter', (_name, build) => {
  let logs: LogCapture;
  let handle: ServiceHandle;
  let target: Awaited<ReturnType<typeof requestTarget>>;

  async function setup(vars: Record<string, string> = {}) {
    logs = captureLogs();
    const ctx = testContext(vars, logs);
    handle = await build(ctx);
    target = await requestTarget(handle);
    return ctx;
  }

  afterEach(async () => {
    await handle?.close();
  });

  it('serves GET / with name and version, security headers, a request id and no x-powered-by', async () => {
    await setup();
    const res = await request(target).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ name: 'kit-test', version: '9.8.7' });
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it('echoes a valid x-request-id and replaces an invalid one', async () => {
    await setup();
    const ok = await request(target).get('/').set('x-request-id', 'trace-42.a');
    expect(ok.headers['x-request-id']).toBe('trace-42.a');
    const bad = await request(target).get('/').set('x-request-id', 'x'.repeat(200));
    expect(bad.headers['x-request-id']).toMatch(UUID);
  });

  it('answers the health endpoints with application/health+json', async () => {
    const ctx = await setup();
    let res = await request(target).get('/health/ready');
    expect(res.status).toBe(503); // starting
    expect(res.headers['content-type']).toBe('application/health+json');
    expect(res.headers['cache-control']).toBe('no-store');
    const ready = JSON.parse(res.text);
    expect(ready).toMatchObject({ status: 'fail', serviceId: 'kit-test', releaseId: '9.8.7' });

    res = await request(target).get('/health/live');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).status).toBe('pass');

    ctx.health.markStarted();
    for (const path of ['/health/ready', '/health/startup', '/health']) {
      res = await request(target).get(path);
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 200, 'application/health+json']);
      expect(JSON.parse(res.text).checks['lifecycle:state'][0].status).toBe('pass');
    }

    ctx.health.addCheck({ name: 'dep:responseTime', kinds: ['readiness'], run: () => ({ status: 'fail', output: 'dep down' }) });
    res = await request(target).get('/health/ready');
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text).checks['dep:responseTime'][0]).toMatchObject({ status: 'fail', output: 'dep down' });
  });

  it('shows the effective config with secrets redacted', async () => {
    await setup({ API_KEY: 'k-very-secret-0123456789' });
    const res = await request(target).get('/config').set('authorization', 'Bearer k-very-secret-0123456789');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      SHUTDOWN_GRACE_MS: 10000,
      API_KEY: '[REDACTED]',
      GREETING: 'hi',
    });
    expect(res.text).not.toContain('k-very-secret-0123456789');
  });

  it('accepts valid input', async () => {
    await setup();
    const res = await request(target).post('/items').send({ name: 'a', qty: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ name: 'a', qty: 2 });
  });

  it('answers an unknown route with a JSON 404', async () => {
    await setup();
    for (const res of [await request(target).get('/nope?x=<script>'), await request(target).delete('/items')]) {
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: 'Not Found', message: 'Route not found', requestId: res.headers['x-request-id'] });
    }
  });

  it('answers malformed JSON with a JSON 400', async () => {
    await setup();
    const res = await request(target).post('/items').set('content-type', 'application/json').send('{"name": "a",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'Bad Request', message: 'Malformed JSON in request body' });
  });

  it('answers wrong types and missing fields with a 400 listing the fields', async () => {
    await setup();
    const res = await request(target).post('/items').send({ name: 42, extra: true });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Bad Request');
    expect(res.body.issues.map((i: { field: string }) => i.field).sort()).toEqual(['(body)', 'name', 'qty']);
    const empty = await request(target).post('/items');
    expect(empty.status).toBe(400);
    expect(empty.body.issues).toEqual([expect.objectContaining({ field: '(body)' })]);
  });

  it('answers an oversized body with a JSON 413', async () => {
    await setup();
    const res = await request(target)
      .post('/items')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(110 * 1024), qty: 1 }));
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'Payload Too Large', message: 'Request body exceeds 102400 bytes' });
  });

  it('answers a non-JSON body with a JSON 415', async () => {
    await setup();
    const res = await request(target).post('/items').set('content-type', 'text/plain').send('name=a');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'Unsupported Media Type', message: 'Content-Type must be application/json' });
  });

  it('never leaks internals on a 500, but logs them', async () => {
    await setup();
    const res = await request(target).get('/boom').set('x-request-id', 'req-500');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'Internal Server Error', message: 'Internal Server Error', requestId: 'req-500' });
    expect(res.text).not.toMatch(/hunter2|10\.1\.2\.3|\.ts:\d+|at /);
    const errored = logs.records().find((r) => r.level === 'error');
    expect(JSON.stringify(errored)).toContain('hunter2');
  });

  it('requires the bearer API key on mutating requests when API_KEY is set', async () => {
    await setup({ API_KEY: 'k-1234567890abcdef' });
    const missing = await request(target).post('/items').send({ name: 'a', qty: 1 });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="kit-test"');
    expect(missing.body).toMatchObject({ error: 'Unauthorized', message: 'Missing bearer token' });
    const wrong = await request(target).post('/items').set('authorization', 'Bearer nope').send({ name: 'a', qty: 1 });
    expect(wrong.status).toBe(401);
    const unauthedGarbage = await request(target).post('/items').set('content-type', 'application/json').send('{oops');
    expect(unauthedGarbage.status).toBe(401); // auth is checked before the body is parsed
    const ok = await request(target).post('/items').set('authorization', 'Bearer k-1234567890abcdef').send({ name: 'a', qty: 1 });
    expect(ok.status).toBe(201);
    expect((await request(target).get('/')).status).toBe(200);
  });

  it('logs one line per request with the request id and no credentials', async () => {
    await setup({ API_KEY: 'k-1234567890abcdef' });
    await request(target)
      .post('/items')
      .set('authorization', 'Bearer k-1234567890abcdef')
      .set('cookie', 'session=cookie-value')
      .set('x-request-id', 'log-1')
      .send({ name: 'a', qty: 1 });
    const completed = logs.records().filter((r) => r.msg === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ reqId: 'log-1', req: { id: 'log-1', method: 'POST', url: '/items' }, res: { statusCode: 201 } });
    expect(logs.text()).not.toMatch(/k-1234567890abcdef|cookie-value/);
  });
});
