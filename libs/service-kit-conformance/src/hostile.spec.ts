// Regression tests for issue 11 (the services under hostile clients), over a real listening server in each adapter:
// raw sockets to 127.0.0.1 for what an HTTP client library cannot send; every exchange is bounded in time.
import http from 'node:http';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import { createExpressService } from '@secure-ci/service-kit-express';
import { createFastifyService } from '@secure-ci/service-kit-fastify';
import type { AdapterOptions } from '@secure-ci/service-kit';
import { httpErrors } from '@secure-ci/service-kit';
import { validate } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import type { ServiceHandle } from '@secure-ci/service-kit';
import { captureLogs, deferred, itemSchema, testContext, type LogCapture } from './testing/helpers';
import { openConnection, rawExchange, trickle } from './testing/raw-http';

const KEY = 'k-hostile-0123456789abcdef';
const UUID = /^[0-9a-f-]{36}$/;
// Short timeouts so the timeout tests take about a second; the kit's defaults are in HTTP_TIMEOUTS.
const TIMEOUTS: AdapterOptions = { timeouts: { headersTimeoutMs: 800, requestTimeoutMs: 1200, keepAliveTimeoutMs: 5000, checkIntervalMs: 100 } };

type Build = (ctx: ServiceContext, gate: Promise<void>) => Promise<ServiceHandle>;

const adapters: Array<[string, Build]> = [
  [
    'express',
    async (ctx, gate) =>
      createExpressService(
        ctx,
        (app: Express) => {
          app.post('/items', (req, res) => {
            res.status(201).json(validate(itemSchema, req.body));
          });
          app.get('/items/:id', (req, res) => {
            res.json({ id: req.params.id });
          });
          app.get('/slow', async (_req, res) => {
            await gate;
            res.json({ slow: 'done' });
          });
          app.get('/unavailable', () => {
            throw httpErrors.serviceUnavailable('upstream is down');
          });
        },
        TIMEOUTS,
      ),
  ],
  [
    'fastify',
    (ctx, gate) =>
      createFastifyService(
        ctx,
        (app: FastifyInstance) => {
          app.post('/items', async (req, reply) => reply.code(201).send(validate(itemSchema, req.body)));
          app.get('/items/:id', async (req) => ({ id: (req.params as { id: string }).id }));
          app.get('/slow', async () => {
            await gate;
            return { slow: 'done' };
          });
          app.get('/unavailable', async () => {
            throw httpErrors.serviceUnavailable('upstream is down');
          });
        },
        TIMEOUTS,
      ),
  ],
];

/** The kit's JSON error shape: error, message, a request id (also in the header), security headers. */
function expectKitError(reply: { status: number; headers: Record<string, string>; body: string }, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(reply.body) as Record<string, unknown>;
  expect(body).toEqual(expect.objectContaining({ error: expect.any(String), message: expect.any(String), requestId: expect.any(String) }));
  expect(reply.headers['x-request-id']).toBe(body.requestId);
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
  expect(reply.headers['content-security-policy']).toContain("default-src 'self'");
  expect(JSON.stringify(body)).not.toMatch(/FST_|ERR_|HPE_/);
  return body;
}

/** Log lines are written when the response finishes, which may be just after the client saw the connection close. */
async function eventually(assertion: () => void, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return assertion();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const post = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

describe.each(adapters)('%s adapter under hostile clients', (_name, build) => {
  let logs: LogCapture;
  let handle: ServiceHandle;
  let ctx: ServiceContext;
  let port: number;
  let gate: ReturnType<typeof deferred<void>>;

  async function start(vars: Record<string, string> = {}) {
    logs = captureLogs();
    ctx = testContext(vars, logs);
    gate = deferred<void>();
    handle = await build(ctx, gate.promise);
    port = (await handle.listen({ port: 0, host: '127.0.0.1' })).port;
  }

  afterEach(async () => {
    gate?.resolve();
    await handle?.close();
  });

  describe('1: an early error closes the connection and stops reading the body', () => {
    it('401 to a 10 GB Content-Length upload, then the connection closes while the client is still sending', async () => {
      await start({ API_KEY: KEY });
      const reply = await rawExchange(port, {
        head: post('/items', { 'content-type': 'application/json', 'content-length': 10_000_000_000 }),
        feed: trickle(Buffer.alloc(16 * 1024, 'x'), 5),
        deadlineMs: 4000,
      });
      expectKitError(reply, 401);
      expect(reply.headers.connection).toBe('close');
      expect(reply.closed).toBe(true);
    });

    it('401 to an endless chunked upload, then the connection closes', async () => {
      await start({ API_KEY: KEY });
      const reply = await rawExchange(port, {
        head: post('/items', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
        feed: trickle(`4000\r\n${'x'.repeat(0x4000)}\r\n`, 5),
        deadlineMs: 4000,
      });
      expectKitError(reply, 401);
      expect(reply.closed).toBe(true);
    });
  });

  describe('2: an oversized body gets 413 as soon as it crosses 100 kB, then the connection closes', () => {
    it('chunked: 413 while the client keeps sending', async () => {
      await start();
      const reply = await rawExchange(port, {
        head: post('/items', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }),
        feed: trickle(`4000\r\n${'x'.repeat(0x4000)}\r\n`, 5),
        deadlineMs: 4000,
      });
      expect(expectKitError(reply, 413).message).toBe('Request body exceeds 102400 bytes');
      expect(reply.closed).toBe(true);
    });

    it('Content-Length over the limit: 413 before the body is sent', async () => {
      await start();
      const reply = await rawExchange(port, {
        head: post('/items', { 'content-type': 'application/json', 'content-length': 1_000_000_000 }),
        deadlineMs: 4000,
      });
      expectKitError(reply, 413);
      expect(reply.closed).toBe(true);
    });
  });

  describe('3: shutdown closes idle, never-used and half-open connections at once; in-flight requests finish', () => {
    it('close() resolves once the in-flight request is done, although other connections are idle or half-open', async () => {
      await start();
      const agent = new http.Agent({ keepAlive: true });
      const get = (path: string) =>
        new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port, path, agent }, (res) => {
              let body = '';
              res.on('data', (c) => (body += String(c)));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
            })
            .on('error', reject);
        });
      try {
        expect((await get('/')).status).toBe(200); // leaves an idle keep-alive connection in the agent
        const neverUsed = await openConnection(port);
        const halfOpen = await openConnection(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        const slow = get('/slow');
        await new Promise((resolve) => setTimeout(resolve, 100));

        const closed = handle.close();
        await Promise.all([neverUsed.closed, halfOpen.closed]); // closed at once, not at a timeout
        gate.resolve();
        const reply = await slow;
        expect(reply).toMatchObject({ status: 200, connection: 'close' });
        await closed;
      } finally {
        agent.destroy();
      }
    });
  });

  describe('6: finite header, request and keep-alive timeouts', () => {
    it('a body trickled in byte by byte gets a JSON 408 and the connection closes', async () => {
      await start();
      const reply = await rawExchange(port, {
        head: post('/items', { 'content-type': 'application/json', 'content-length': 1000 }),
        feed: trickle('x', 200),
        deadlineMs: 4000,
      });
      expectKitError(reply, 408);
      expect(reply.closed).toBe(true);
    });

    it('headers trickled in (slowloris) get a JSON 408 and the connection closes', async () => {
      await start();
      const reply = await rawExchange(port, { head: 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', feed: trickle('X-A: b\r\n', 200), deadlineMs: 4000 });
      expectKitError(reply, 408);
      expect(reply.closed).toBe(true);
    });

    it('a connection that never sends a byte is closed', async () => {
      await start();
      const reply = await rawExchange(port, { deadlineMs: 4000 });
      expect(reply.closed).toBe(true);
    });

    it('uses the same server timeouts in both adapters', async () => {
      await start();
      const server = handle.server as http.Server;
      expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([800, 1200, 5000]);
    });
  });

  describe('8: protocol and framework errors get the kit JSON shape with a request id, and are logged', () => {
    it.each([
      ['bad chunking', post('/items', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }) + 'zz\r\n{}\r\n0\r\n\r\n', 400],
      ['header overflow', `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['Expect other than 100-continue', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\n\r\n', 417],
      ['missing Host', 'GET / HTTP/1.1\r\n\r\n', 400],
      ['garbage', 'HELLO\r\n\r\n', 400],
    ])('%s', async (_what, head, status) => {
      await start();
      const reply = await rawExchange(port, { head, deadlineMs: 3000 });
      const body = expectKitError(reply, status);
      expect(reply.raw).not.toContain('a'.repeat(100));
      await eventually(() => expect(logs.records().some((r) => r.reqId === body.requestId)).toBe(true));
    });

    it('bad percent-encoding and over-long path parameters: no framework codes, no URL echoed', async () => {
      await start();
      for (const [path, status] of [
        ['/items/%E0%A4%A?secret=q1', 400],
        [`/items/${'p'.repeat(150)}?secret=q2`, _name === 'fastify' ? 414 : 200],
      ] as const) {
        const reply = await rawExchange(port, { head: `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, deadlineMs: 3000 });
        if (status === 200) {
          expect(reply.status).toBe(200); // express has no parameter length limit
          continue;
        }
        const body = expectKitError(reply, status);
        expect(reply.body).not.toMatch(/secret=|%E0|ppppp/);
        await eventually(() => expect(logs.records().some((r) => r.reqId === body.requestId && r.msg === 'request completed')).toBe(true));
      }
    });
  });

  it('9: an intended 5xx is logged without a stack (no invented error)', async () => {
    await start();
    const reply = await rawExchange(port, { head: 'GET /unavailable HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' });
    expectKitError(reply, 503);
    await eventually(() => expect(logs.records().filter((r) => r.msg === 'request completed')).toHaveLength(1));
    const completed = logs.records().filter((r) => r.msg === 'request completed');
    expect(completed[0]).toMatchObject({ level: 'error', res: { statusCode: 503 } });
    expect(logs.text()).not.toMatch(/"stack"|\.ts:\d+|failed with status code/);
  });

  it('11: the configured key is scrubbed from logged URLs, plain or percent-encoded', async () => {
    await start({ API_KEY: KEY });
    const encoded = [...KEY].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    for (const path of [`/?api_key=${KEY}`, `/?token=${encoded}`, `/nope/${KEY}`]) {
      await rawExchange(port, { head: `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n` });
    }
    await eventually(() => expect(logs.records().filter((r) => r.msg === 'request completed')).toHaveLength(3));
    const urls = logs
      .records()
      .filter((r) => r.msg === 'request completed')
      .map((r) => (r.req as { url: string }).url);
    expect(urls).toEqual(['/?api_key=[REDACTED]', '/?token=[REDACTED]', '/nope/[REDACTED]']);
    expect(logs.text()).not.toContain(KEY);
    expect(logs.text()).not.toContain(encoded);
  });

  it('12: a Content-Encoding the service does not decode gets a JSON 415', async () => {
    await start();
    for (const encoding of ['x-unknown', 'compress']) {
      const reply = await rawExchange(port, {
        head: post('/items', { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': 2, connection: 'close' }) + '{}',
      });
      expect(expectKitError(reply, 415).message).toBe('Content-Encoding is not supported');
    }
  });

  it('14: /config needs the API key when the service has one', async () => {
    await start({ API_KEY: KEY });
    const ask = (auth?: string) =>
      rawExchange(port, { head: `GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Connection: close\r\n\r\n` });
    expectKitError(await ask(), 401);
    expectKitError(await ask('Bearer wrong-key-0123456789abcdef'), 401);
    const ok = await ask(`Bearer ${KEY}`);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ API_KEY: '[REDACTED]' });
  });

  it('14: /config stays open when the service has no API key', async () => {
    await start();
    expect((await rawExchange(port, { head: 'GET /config HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' })).status).toBe(200);
  });

  it('13: a readiness flood makes at most one downstream call per TTL window', async () => {
    await start();
    let calls = 0;
    ctx.health.addCheck({ name: 'dep:responseTime', kinds: ['readiness'], cacheMs: 60_000, run: () => void calls++ });
    const replies = await Promise.all(
      Array.from({ length: 30 }, () => rawExchange(port, { head: 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(calls).toBe(1);
  });

  it('gives every response a request id', async () => {
    await start();
    const reply = await rawExchange(port, { head: 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' });
    expect(reply.headers['x-request-id']).toMatch(UUID);
  });
});
