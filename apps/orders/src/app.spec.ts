import { ConfigError, createLogger, loadConfig, type ServiceHandle } from '@secure-ci/service-kit';
import type { Express } from 'express';
import request from 'supertest';
import pkg from '../package.json';
import { buildApp } from './app';
import { configSchema } from './config';
import { OrderStore } from './orders';
import { deadCatalogUrl, startFakeCatalog, type FakeCatalog } from './testing/fake-catalog';

const silent = createLogger({ name: 'orders', level: 'silent' });
let catalog: FakeCatalog;
const handles: Array<ServiceHandle<Express>> = [];

beforeEach(async () => {
  catalog = await startFakeCatalog();
});

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
  await catalog.close();
});

async function start(env: Record<string, string> = {}, store?: OrderStore) {
  const config = loadConfig(configSchema, { env: { CATALOG_URL: catalog.url, ...env } });
  const handle = await buildApp(config, { logger: silent, store });
  handles.push(handle);
  handle.context.health.markStarted();
  return { handle, http: request(handle.app) };
}

const fields = (body: { issues: Array<{ field: string }> }) => body.issues.map((i) => i.field).sort();

describe('orders config', () => {
  it('defaults PORT to 3002 and CATALOG_TIMEOUT_MS to 2000', () => {
    const config = loadConfig(configSchema, { env: { CATALOG_URL: 'http://catalog:3001' } });
    expect(config).toMatchObject({ PORT: 3002, CATALOG_URL: 'http://catalog:3001', CATALOG_TIMEOUT_MS: 2000 });
  });

  it('requires CATALOG_URL and validates the catalog settings', () => {
    expect(() => loadConfig(configSchema, { env: {} })).toThrow(ConfigError);
    try {
      loadConfig(configSchema, { env: { CATALOG_TIMEOUT_MS: '0', CATALOG_API_KEY: 'two words' } });
    } catch (err) {
      const message = (err as ConfigError).message;
      expect(message).toContain('CATALOG_URL: is required');
      expect(message).toContain('CATALOG_TIMEOUT_MS: must be an integer between 1 and 60000');
      expect(message).toContain('CATALOG_API_KEY: must not contain whitespace');
      expect(message).not.toContain('two words');
    }
  });
});

describe('orders', () => {
  it('GET / names the service and its package version', async () => {
    const { http } = await start();
    expect((await http.get('/')).body).toEqual({ name: 'orders', version: pkg.version });
  });

  it('GET /config shows CATALOG_URL and redacts both keys', async () => {
    const { http } = await start({ API_KEY: 'orders-key-0123456789', CATALOG_API_KEY: 'catalog-key-0123456789' });
    const res = await http.get('/config').set('authorization', 'Bearer orders-key-0123456789');
    expect((await http.get('/config')).status).toBe(401); // /config is behind the API key when there is one
    expect(res.body).toMatchObject({ CATALOG_URL: catalog.url, CATALOG_TIMEOUT_MS: 2000, API_KEY: '[REDACTED]', CATALOG_API_KEY: '[REDACTED]' });
    expect(res.text).not.toMatch(/orders-key-0123456789|catalog-key-0123456789/);
  });

  describe('readiness follows catalog', () => {
    it('is 200 with a passing catalog:responseTime check when catalog is ready', async () => {
      const { http } = await start();
      const res = await http.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/health+json');
      const body = JSON.parse(res.text);
      expect(body.checks['catalog:responseTime'][0]).toMatchObject({ status: 'pass', observedUnit: 'ms', componentType: 'component' });
      expect(catalog.requests.map((r) => r.url)).toEqual(['/health/ready']);
    });

    it('a probe flood makes one call to catalog, not one per probe (shared in-flight check + TTL)', async () => {
      const { http } = await start();
      const replies = await Promise.all(Array.from({ length: 20 }, () => http.get('/health/ready')));
      expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(catalog.requests.filter((r) => r.url === '/health/ready')).toHaveLength(1);
    });

    it('is 503 when catalog is not ready', async () => {
      catalog.ready = 503;
      const { http } = await start();
      const res = await http.get('/health/ready');
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text).checks['catalog:responseTime'][0]).toMatchObject({ status: 'fail', output: 'catalog readiness answered 503' });
    });

    it('is 503 when catalog is down, while liveness stays 200', async () => {
      const { http } = await start({ CATALOG_URL: await deadCatalogUrl() });
      const ready = await http.get('/health/ready');
      expect(ready.status).toBe(503);
      const body = JSON.parse(ready.text);
      expect(body.status).toBe('fail');
      expect(body.checks['catalog:responseTime'][0]).toMatchObject({ status: 'fail', output: 'catalog is unreachable (ECONNREFUSED)' });
      expect((await http.get('/health/live')).status).toBe(200);
      expect((await http.get('/health')).status).toBe(503);
    });

    it('is 503 when catalog does not answer within CATALOG_TIMEOUT_MS', async () => {
      catalog.ready = 'hang';
      const { http } = await start({ CATALOG_TIMEOUT_MS: '100' });
      const res = await http.get('/health/ready');
      expect(res.status).toBe(503);
      expect(JSON.parse(res.text).checks['catalog:responseTime'][0]).toMatchObject({ status: 'fail', output: 'timed out after 100 ms' });
    });
  });

  describe('POST /orders', () => {
    it('prices the order with catalog: 201, Location, total; readable afterwards', async () => {
      const { http } = await start({ CATALOG_API_KEY: 'to-catalog-0123456789' });
      const res = await http.post('/orders').set('x-request-id', 'order-req-1').send({ productId: 'p-1', quantity: 3 });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ productId: 'p-1', productName: 'Mechanical keyboard', quantity: 3, unitPriceCents: 8999, totalCents: 26997 });
      expect(res.headers.location).toBe(`/orders/${res.body.id}`);
      expect((await http.get(res.headers.location)).body).toEqual(res.body);
      expect((await http.get('/orders')).body.items).toEqual([res.body]);

      const call = catalog.requests.find((r) => r.url === '/products/p-1');
      expect(call?.headers['x-request-id']).toBe('order-req-1');
      expect(call?.headers.authorization).toBe('Bearer to-catalog-0123456789');
    });

    it('answers 422 for a product catalog does not know', async () => {
      const { http } = await start();
      const res = await http.post('/orders').send({ productId: 'p-404', quantity: 1 });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: 'Unprocessable Entity', issues: [{ field: 'productId', message: 'no such product in the catalog' }] });
    });

    it('answers 503 JSON when catalog is down', async () => {
      const { http } = await start({ CATALOG_URL: await deadCatalogUrl() });
      const res = await http.post('/orders').send({ productId: 'p-1', quantity: 1 });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ error: 'Service Unavailable', message: 'catalog is unreachable (ECONNREFUSED)' });
    });

    it('answers 504 JSON when catalog is too slow', async () => {
      catalog.products = 'hang';
      const { http } = await start({ CATALOG_TIMEOUT_MS: '100' });
      const res = await http.post('/orders').send({ productId: 'p-1', quantity: 1 });
      expect(res.status).toBe(504);
      expect(res.body).toMatchObject({ error: 'Gateway Timeout', message: 'catalog did not answer within 100 ms' });
    });

    it.each([
      ['error-500', 'catalog answered 500'],
      ['invalid-json', 'catalog answered invalid JSON'],
      ['bad-shape', 'catalog answered an unexpected product shape'],
    ] as const)('answers 502 JSON when catalog misbehaves (%s)', async (mode, message) => {
      catalog.products = mode;
      const { http } = await start();
      const res = await http.post('/orders').send({ productId: 'p-1', quantity: 1 });
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ error: 'Bad Gateway', message });
    });

    it('answers 507 when the store is full', async () => {
      const { http } = await start({}, new OrderStore(0));
      expect((await http.post('/orders').send({ productId: 'p-1', quantity: 1 })).status).toBe(507);
    });
  });

  describe('bad input', () => {
    it('malformed JSON -> 400', async () => {
      const { http } = await start();
      const res = await http.post('/orders').set('content-type', 'application/json').send('{"productId":');
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'Bad Request', message: 'Malformed JSON in request body' });
    });

    it('wrong types -> 400 listing the fields, without calling catalog', async () => {
      const { http } = await start();
      const res = await http.post('/orders').send({ productId: '../admin', quantity: '3' });
      expect(res.status).toBe(400);
      expect(fields(res.body)).toEqual(['productId', 'quantity']);
      const zero = await http.post('/orders').send({ productId: 'p-1', quantity: 0 });
      expect(fields(zero.body)).toEqual(['quantity']);
      expect(catalog.requests.filter((r) => r.url.startsWith('/products'))).toEqual([]);
    });

    it('oversized body -> 413', async () => {
      const { http } = await start();
      const res = await http
        .post('/orders')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ productId: 'p-1', quantity: 1, pad: 'x'.repeat(150 * 1024) }));
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('Payload Too Large');
    });

    it('non-JSON body -> 415', async () => {
      const { http } = await start();
      expect((await http.post('/orders').set('content-type', 'application/x-www-form-urlencoded').send('productId=p-1')).status).toBe(415);
    });

    it('unknown route -> 404 JSON; bad or unknown order id -> 400 / 404', async () => {
      const { http } = await start();
      const unknown = await http.get('/orders/x/y');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ error: 'Not Found', message: 'Route not found' });
      const badId = await http.get('/orders/not-a-uuid');
      expect(badId.status).toBe(400);
      expect(fields(badId.body)).toEqual(['id']);
      const missing = await http.get('/orders/8a3f2c4e-1b2d-4c5e-8f90-123456789abc');
      expect(missing.status).toBe(404);
      expect(missing.body.message).toBe('Order not found');
    });

    it('missing or wrong bearer token when API_KEY is set -> 401; reads stay open', async () => {
      const { http } = await start({ API_KEY: 'orders-key-0123456789' });
      const order = { productId: 'p-1', quantity: 1 };
      const missing = await http.post('/orders').send(order);
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="orders"');
      expect((await http.post('/orders').set('authorization', 'Bearer wrong').send(order)).status).toBe(401);
      expect((await http.post('/orders').set('authorization', 'Bearer orders-key-0123456789').send(order)).status).toBe(201);
      expect((await http.get('/orders')).status).toBe(200);
    });
  });
});
