// Generated bad input (fast-check), bounded in count and time, over both adapters on a real listening server:
// random paths (percent-encodings valid and not), methods, headers, bodies, and random config env values.
// Invariants: never a 5xx, every error in the kit's JSON shape with a request id, never a secret echoed or logged.
// A failure prints fast-check's seed and the shrunk counter-example; replay it with fc.assert(..., { seed, path }).
import fc from 'fast-check';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import { createExpressService } from '@secure-ci/service-kit-express';
import { createFastifyService } from '@secure-ci/service-kit-fastify';
import { ConfigError, defineConfig, env, loadConfig } from '@secure-ci/service-kit';
import { validate } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import type { ServiceHandle } from '@secure-ci/service-kit';
import { captureLogs, itemSchema, testContext, type LogCapture } from './testing/helpers';
import { rawExchange } from './testing/raw-http';

const SECRET = 'k-fuzz-secret-0123456789abcdef';
const RUNS = { numRuns: 150, interruptAfterTimeLimit: 15_000 };
jest.setTimeout(40_000);

type Build = (ctx: ServiceContext) => Promise<ServiceHandle>;
const adapters: Array<[string, Build]> = [
  [
    'express',
    async (ctx) =>
      createExpressService(ctx, (app: Express) => {
        app.post('/items', (req, res) => {
          res.status(201).json(validate(itemSchema, req.body));
        });
        app.get('/items/:id', (req, res) => {
          res.json({ id: req.params.id.length });
        });
      }),
  ],
  [
    'fastify',
    (ctx) =>
      createFastifyService(ctx, (app: FastifyInstance) => {
        app.post('/items', async (req, reply) => reply.code(201).send(validate(itemSchema, req.body)));
        app.get('/items/:id', async (req) => ({ id: (req.params as { id: string }).id.length }));
      }),
  ],
];

const hex = fc.constantFrom(...'0123456789abcdefABCDEFgxZ%'.split(''));
// Mostly well-formed (so requests reach routing, parsers and handlers), some bytes the parser must refuse.
const segment = fc.oneof(
  { arbitrary: fc.constantFrom('items', 'health', 'ready', 'live', 'config', '..', '.', '', SECRET), weight: 6 },
  { arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent), weight: 3 },
  { arbitrary: fc.tuple(hex, hex).map(([a, b]) => `%${a}${b}`), weight: 3 }, // percent-encodings, many invalid
  { arbitrary: fc.nat({ max: 300 }).map((n) => 'p'.repeat(n)), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 8 }), weight: 1 }, // raw bytes the request line may not allow
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }), weight: 1 },
);
const path = fc
  .tuple(fc.array(segment, { maxLength: 5 }), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }))
  .map(([parts, query]) => `/${parts.join('/')}${query === undefined ? '' : `?${query}`}`);
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const headerValue = fc.oneof(
  { arbitrary: fc.string({ maxLength: 60 }), weight: 4 },
  { arbitrary: fc.constantFrom(SECRET, `Bearer ${SECRET}x`, `Bearer ${SECRET}`, 'gzip', 'chunked', '100-continue'), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 60 }), weight: 1 },
);
const header = fc.oneof(
  fc.tuple(token, headerValue),
  fc.tuple(
    fc.constantFrom('content-type', 'content-encoding', 'authorization', 'x-request-id', 'expect', 'transfer-encoding', 'content-length', 'host'),
    fc.oneof(headerValue, fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', '-1', '99999999999')),
  ),
);
const body = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 3 }),
  fc.record({ name: fc.string(), qty: fc.oneof(fc.integer(), fc.string()) }).map((o) => JSON.stringify(o)),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
const method = fc.constantFrom<string>('GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'BREW', 'G\tET');

const request = fc.record({ method, path, headers: fc.array(header, { maxLength: 6 }), body });

function rawRequest(r: { method: string; path: string; headers: Array<[string, string]>; body: string }) {
  const bytes = Buffer.from(r.body, 'utf8');
  const headers = r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  const length = r.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k)) ? '' : `content-length: ${bytes.length}\r\n`;
  return Buffer.concat([Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}${length}connection: close\r\n\r\n`, 'latin1'), bytes]);
}

describe.each(adapters)('generated bad input, %s adapter', (_name, build) => {
  let logs: LogCapture;
  let handle: ServiceHandle;
  let port: number;

  beforeAll(async () => {
    logs = captureLogs();
    handle = await build(testContext({ API_KEY: SECRET, LOG_LEVEL: 'debug' }, logs));
    port = (await handle.listen({ port: 0, host: '127.0.0.1' })).port;
  });
  afterAll(() => handle.close());

  it('never answers 5xx; every error is the kit JSON shape with a request id; no secret echoed', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const reply = await rawExchange(port, { head: rawRequest(r), deadlineMs: 3000 });
        if (reply.status === 0) return; // closed without an answer (e.g. a request the parser cannot frame at all)
        expect(reply.status).toBeLessThan(500);
        expect(reply.raw).not.toContain(SECRET);
        if (reply.status >= 400 && r.method !== 'HEAD') {
          const parsed = JSON.parse(reply.body) as Record<string, unknown>;
          expect(parsed).toEqual(expect.objectContaining({ error: expect.any(String), message: expect.any(String), requestId: reply.headers['x-request-id'] }));
          expect(reply.headers['x-content-type-options']).toBe('nosniff');
        }
      }),
      RUNS,
    );
    expect(logs.text()).not.toContain(SECRET);
  });
});

describe('generated config env values', () => {
  const schema = defineConfig(
    { defaultPort: 3000 },
    { UPSTREAM_URL: env.url({ credentialsVia: 'UPSTREAM_API_KEY' }), UPSTREAM_API_KEY: env.secret().optional() },
  );
  const value = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.constantFrom(
      '',
      ' ',
      '0',
      '-1',
      '65536',
      'info',
      'DEBUG',
      '::',
      '0.0.0.0',
      'http://c',
      `http://u:${SECRET}@c`,
      `http:u:${SECRET}@c`,
      ` http:\\\\u:${SECRET}@c`,
    ),
  );
  const envs = fc.dictionary(fc.constantFrom('PORT', 'HOST', 'LOG_LEVEL', 'SHUTDOWN_GRACE_MS', 'API_KEY', 'UPSTREAM_URL', 'UPSTREAM_API_KEY'), value);

  it('either loads or throws one ConfigError line that never contains a secret or URL password', () => {
    fc.assert(
      fc.property(envs, fc.boolean(), (vars, secretKey) => {
        const all: Record<string, string> = { ...vars, ...(secretKey ? { API_KEY: `${SECRET}\u00e9` } : {}) };
        try {
          loadConfig(schema, { env: all });
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          const message = (err as ConfigError).message;
          expect(message).not.toContain('\n');
          expect(message).not.toContain(SECRET);
          for (const key of ['API_KEY', 'UPSTREAM_API_KEY'] as const) {
            const secret = all[key];
            if (secret && secret.trim().length >= 4) expect(message).not.toContain(secret);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
