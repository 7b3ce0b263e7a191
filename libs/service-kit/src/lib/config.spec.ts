import { z } from 'zod';
import { ConfigError, EX_CONFIG, defineConfig, env, loadConfig } from './config';
import { secret } from './secret';
import type { FileReader } from './env';

const schema = defineConfig(
  { defaultPort: 3001 },
  {
    CATALOG_URL: env.url({ credentialsVia: 'CATALOG_API_KEY' }),
    CATALOG_TIMEOUT_MS: env.int({ min: 1, max: 60_000 }).default(2000),
    CATALOG_API_KEY: env.secret().optional(),
    FEATURE_X: env.boolean().default(false),
  },
);

const files =
  (contents: Record<string, string>): FileReader =>
  (path) => {
    if (path in contents) return contents[path];
    throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and types values', () => {
    const config = loadConfig(schema, { env: { CATALOG_URL: 'http://catalog:3001/' } });
    expect(config).toEqual({
      PORT: 3001,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: 10_000,
      API_KEY: undefined,
      CATALOG_URL: 'http://catalog:3001',
      CATALOG_TIMEOUT_MS: 2000,
      CATALOG_API_KEY: undefined,
      FEATURE_X: false,
    });
  });

  it('parses every common field', () => {
    const config = loadConfig(schema, {
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'DEBUG',
        SHUTDOWN_GRACE_MS: '500',
        API_KEY: 'k-1234567890abcdef',
        CATALOG_URL: 'https://c.example',
        FEATURE_X: 'yes',
      },
    });
    expect(config).toMatchObject({ PORT: 0, HOST: '127.0.0.1', LOG_LEVEL: 'debug', SHUTDOWN_GRACE_MS: 500, API_KEY: 'k-1234567890abcdef', FEATURE_X: true });
  });

  it('reads any variable from NAME_FILE', () => {
    const config = loadConfig(schema, {
      env: { PORT_FILE: '/run/port', CATALOG_URL: 'http://c', API_KEY_FILE: '/run/secrets/api_key' },
      readFile: files({ '/run/port': '4000\n', '/run/secrets/api_key': 'from-file-0123456789\n' }),
    });
    expect(config.PORT).toBe(4000);
    expect(config.API_KEY).toBe('from-file-0123456789');
  });

  it.each([
    ['PORT', 'abc', 'PORT: must be an integer between 0 and 65535 (got "abc")'],
    ['PORT', '65536', 'PORT: must be an integer between 0 and 65535 (got "65536")'],
    ['PORT', '1.5', 'PORT: must be an integer between 0 and 65535 (got "1.5")'],
    ['PORT', '0x10', 'PORT: must be an integer between 0 and 65535 (got "0x10")'],
    ['SHUTDOWN_GRACE_MS', '0', 'SHUTDOWN_GRACE_MS: must be an integer between 1 and 3600000 (got "0")'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    ['HOST', ' ', 'HOST: must not be empty (got " ")'],
    ['HOST', 'local host', 'HOST: must be an IP address or a host name (got "local host")'],
    ['HOST', 'http://0.0.0.0', 'HOST: must be an IP address or a host name (got "http://0.0.0.0")'],
    ['HOST', '-bad-.example', 'HOST: must be an IP address or a host name (got "-bad-.example")'],
    ['HOST', '999.1.1.1:80', 'HOST: must be an IP address or a host name (got "999.1.1.1:80")'],
    ['CATALOG_URL', 'not a url', 'CATALOG_URL: must be an absolute http/https URL (got "not a url")'],
    ['CATALOG_URL', 'ftp://c', 'CATALOG_URL: must be an absolute http/https URL (got "ftp://c")'],
    ['FEATURE_X', 'maybe', 'FEATURE_X: must be true or false (got "maybe")'],
  ])('rejects %s=%j', (name, value, expected) => {
    const err = configError(() => loadConfig(schema, { env: { CATALOG_URL: 'http://c', [name]: value } }));
    expect(err.problems.map((p) => `${p.variable}: ${p.message}`)).toEqual([expected]);
  });

  it.each(['127.0.0.1', '::', '::1', 'fe80::1', 'localhost', 'catalog', 'svc-1.ns.svc.cluster.local'])('accepts HOST=%s', (host) => {
    expect(loadConfig(schema, { env: { CATALOG_URL: 'http://c', HOST: host } }).HOST).toBe(host);
  });

  it.each([
    ['too short', 'k-123', 'must be at least 16 characters'],
    ['non-ASCII', 'clé-très-secrète-0123', 'must contain only printable ASCII characters'],
    ['a control character', 'abcdefgh\u0007ijklmnopq', 'must not contain whitespace or control characters'],
    ['a non-breaking space', 'abcdefgh\u00a0ijklmnopq', 'must not contain whitespace or control characters'],
  ])('rejects an API key with %s, without echoing it', (_what, value, message) => {
    const err = configError(() => loadConfig(schema, { env: { CATALOG_URL: 'http://c', API_KEY: value } }));
    expect(err.problems).toEqual([{ variable: 'API_KEY', message }]);
    expect(err.message).not.toContain(value);
  });

  it.each([
    'http://admin:hunter2@catalog:3001',
    'http:admin:hunter2@catalog',
    'http:/admin:hunter2@catalog',
    'http:\\\\admin:hunter2@catalog',
    '   http://admin:hunter2@catalog',
    'https://admin:hunter2@catalog:99999',
  ])('rejects credentials in CATALOG_URL=%j, naming CATALOG_API_KEY and never echoing them', (value) => {
    const err = configError(() => loadConfig(schema, { env: { CATALOG_URL: value } }));
    expect(err.problems.map((p) => p.variable)).toEqual(['CATALOG_URL']);
    if (!value.endsWith('99999')) expect(err.message).toContain('must not contain credentials (user:password@); set CATALOG_API_KEY instead');
    expect(err.message).toContain('[REDACTED]@catalog');
    expect(err.message).not.toMatch(/hunter2|admin/);
  });

  it('lists every bad or missing variable in one single-line message, without a stack', () => {
    const err = configError(() => loadConfig(schema, { env: { PORT: 'abc', LOG_LEVEL: 'loud', CATALOG_TIMEOUT_MS: '-1' } }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(EX_CONFIG);
    expect(err.exitCode).toBe(78);
    expect(err.problems.map((p) => p.variable).sort()).toEqual(['CATALOG_TIMEOUT_MS', 'CATALOG_URL', 'LOG_LEVEL', 'PORT']);
    expect(err.message).toMatch(/^invalid configuration \(4 problems\): /);
    expect(err.message).toContain('CATALOG_URL: is required (set CATALOG_URL or CATALOG_URL_FILE)');
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('reports NAME and NAME_FILE both set, and unreadable files, next to schema errors', () => {
    const err = configError(() =>
      loadConfig(schema, {
        env: { PORT: 'abc', API_KEY: 'a', API_KEY_FILE: '/k', CATALOG_URL_FILE: '/nope' },
        readFile: files({ '/k': 'b' }),
      }),
    );
    expect(err.problems).toEqual([
      { variable: 'API_KEY', message: 'both API_KEY and API_KEY_FILE are set; set only one' },
      { variable: 'CATALOG_URL_FILE', message: 'cannot read file "/nope" (ENOENT)' },
      { variable: 'PORT', message: 'must be an integer between 0 and 65535 (got "abc")' },
    ]);
  });

  it('never echoes the value of an invalid secret', () => {
    const value = 'hunter2 with spaces';
    const err = configError(() => loadConfig(schema, { env: { CATALOG_URL: 'http://c', API_KEY: value } }));
    expect(err.problems).toEqual([{ variable: 'API_KEY', message: 'must not contain whitespace or control characters' }]);
    expect(err.message).not.toContain('hunter2');
    expect(JSON.stringify(err)).not.toContain('hunter2');
  });

  it('never echoes a secret read from a file', () => {
    const err = configError(() =>
      loadConfig(schema, { env: { CATALOG_URL: 'http://c', CATALOG_API_KEY_FILE: '/k' }, readFile: files({ '/k': 'tab\tsecret\n' }) }),
    );
    expect(err.message).toContain('CATALOG_API_KEY: must not contain whitespace');
    expect(err.message).not.toContain('secret\n');
    expect(err.message).not.toContain('tab\tsecret');
  });

  it('never echoes credentials embedded in an invalid URL', () => {
    const err = configError(() => loadConfig(schema, { env: { CATALOG_URL: 'http://admin:hunter2@catalog:99999' } }));
    expect(err.message).toContain('CATALOG_URL');
    expect(err.message).toContain('[REDACTED]@catalog');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('admin');
  });

  it('scrubs a secret value that shows up in another field', () => {
    const err = configError(() => loadConfig(schema, { env: { CATALOG_URL: 'http://c', API_KEY: 'sup3r-s3cret-value-1', PORT: 'sup3r-s3cret-value-1' } }));
    expect(err.message).toContain('PORT: must be an integer');
    expect(err.message).not.toContain('sup3r-s3cret-value-1');
    expect(err.message).toContain('[REDACTED]');
  });

  it('keeps custom secret fields (and their custom messages) out of the error', () => {
    const custom = defineConfig({ defaultPort: 1 }, { SIGNING: secret(z.string().refine((v) => v.length > 10, { message: 'too short' })) });
    const err = configError(() => loadConfig(custom, { env: { SIGNING: 'shorty' } }));
    expect(err.message).toBe('invalid configuration (1 problem): SIGNING: too short');
  });

  it('uses process.env by default', () => {
    const before = process.env.CATALOG_URL;
    process.env.CATALOG_URL = 'http://from-process-env';
    try {
      expect(loadConfig(schema).CATALOG_URL).toBe('http://from-process-env');
    } finally {
      if (before === undefined) delete process.env.CATALOG_URL;
      else process.env.CATALOG_URL = before;
    }
  });
});
