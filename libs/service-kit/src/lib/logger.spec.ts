import { Writable } from 'node:stream';
import { createLogger, redactPaths } from './logger';
import { REDACTED } from './redact';
import { requestIdFrom } from './request-id';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), text: () => lines.join('\n') };
}

describe('createLogger', () => {
  it('writes JSON lines with level labels, ISO time, name and version', () => {
    const out = capture();
    const logger = createLogger({ name: 'svc', version: '1.0.0', destination: out.stream });
    logger.info({ a: 1 }, 'hello');
    const [record] = out.records();
    expect(record).toMatchObject({ level: 'info', name: 'svc', version: '1.0.0', a: 1, msg: 'hello' });
    expect(typeof record.time).toBe('string');
    expect(Number.isNaN(Date.parse(record.time as string))).toBe(false);
  });

  it('respects the level', () => {
    const out = capture();
    const logger = createLogger({ name: 'svc', level: 'warn', destination: out.stream });
    logger.info('hidden');
    logger.warn('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('redacts authorization headers, cookies and secret config wherever they are logged', () => {
    const out = capture();
    const logger = createLogger({ name: 'svc', secretKeys: ['API_KEY', 'CATALOG_API_KEY'], destination: out.stream });
    logger.info({
      req: { headers: { authorization: 'Bearer tok-1', cookie: 'sid=cookie-1', 'x-api-key': 'key-1', accept: 'json' } },
      res: { headers: { 'set-cookie': 'sid=cookie-2' } },
      headers: { authorization: 'Basic tok-2', 'proxy-authorization': 'tok-3' },
      upstream: { headers: { authorization: 'Bearer tok-4' } },
      config: { API_KEY: 'secret-1', PORT: 3000 },
      API_KEY: 'secret-2',
      client: { CATALOG_API_KEY: 'secret-3' },
    });
    const text = out.text();
    for (const leaked of ['tok-1', 'tok-2', 'tok-3', 'tok-4', 'cookie-1', 'cookie-2', 'key-1', 'secret-1', 'secret-2', 'secret-3']) {
      expect(text).not.toContain(leaked);
    }
    type Logged = { headers: unknown; upstream: { headers: unknown }; config: unknown };
    const [record] = out.records() as unknown as Logged[];
    expect(record.headers).toEqual({ authorization: REDACTED, 'proxy-authorization': REDACTED });
    expect(record.upstream.headers).toEqual({ authorization: REDACTED });
    expect(record.config).toEqual({ API_KEY: REDACTED, PORT: 3000 });
  });

  it('leaves unset secrets unset instead of claiming they are redacted', () => {
    const out = capture();
    const logger = createLogger({ name: 'svc', secretKeys: ['API_KEY'], destination: out.stream });
    logger.info({ config: { API_KEY: null, PORT: 1 } });
    expect(out.records()[0].config).toEqual({ API_KEY: null, PORT: 1 });
  });

  it('serializes requests compactly, without headers', () => {
    const out = capture();
    const logger = createLogger({ name: 'svc', destination: out.stream });
    logger.info({
      req: { id: 'r1', method: 'GET', url: '/x', headers: { authorization: 'Bearer t' }, socket: { remoteAddress: '127.0.0.1' } },
      res: { statusCode: 204, headers: {} },
    });
    const [record] = out.records();
    expect(record.req).toEqual({ id: 'r1', method: 'GET', url: '/x', remoteAddress: '127.0.0.1' });
    expect(record.res).toEqual({ statusCode: 204 });
  });

  it('has redact paths for headers and for each secret key', () => {
    expect(redactPaths(['TOKEN'])).toEqual(expect.arrayContaining(['req.headers["authorization"]', 'TOKEN', 'config.TOKEN', '*.TOKEN']));
  });
});

describe('requestIdFrom', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('keeps a sane incoming id', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    expect(requestIdFrom('a'.repeat(128))).toBe('a'.repeat(128));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long', 'a'.repeat(129)],
    ['spaces', 'a b'],
    ['newline (log injection)', 'abc\n{"level":"fatal"}'],
    ['quotes', '"x"'],
    ['repeated header', ['a', 'b']],
  ])('generates a UUID when the header is %s', (_what, header) => {
    expect(requestIdFrom(header as string | string[] | undefined)).toMatch(UUID);
  });

  it('replaces an id that contains a configured secret (it would be echoed and logged)', () => {
    expect(requestIdFrom('x-k-0123456789abcdef', ['k-0123456789abcdef'])).toMatch(UUID);
    expect(requestIdFrom('trace-1', ['k-0123456789abcdef'])).toBe('trace-1');
  });
});
