import { z } from 'zod';
import { defineConfig, env } from './config';
import { REDACTED, redactConfig, redactUrlCredentials, scrubSecrets } from './redact';
import { isSecretSchema, secret, secretKeysOf } from './secret';

const schema = defineConfig(
  { defaultPort: 3002 },
  {
    CATALOG_URL: env.url(),
    CATALOG_API_KEY: env.secret().optional(),
    DB_PASSWORD: env.string().optional(), // secret by name
    MONKEY_COUNT: env.int().default(1), // "KEY" inside a word is not a secret name
  },
);

describe('secret fields', () => {
  it('finds marked fields through optional/default wrappers and secret-looking names', () => {
    expect(secretKeysOf(schema).sort()).toEqual(['API_KEY', 'CATALOG_API_KEY', 'DB_PASSWORD']);
  });

  it('isSecretSchema unwraps optional/default/pipe', () => {
    expect(isSecretSchema(secret(z.string()).optional())).toBe(true);
    expect(isSecretSchema(secret(z.string().optional()).default('x'))).toBe(true);
    expect(isSecretSchema(z.string().optional())).toBe(false);
  });
});

describe('redactConfig', () => {
  it('redacts set secrets, shows unset ones as null and masks URL credentials', () => {
    const out = redactConfig(schema, {
      PORT: 3002,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: 10000,
      API_KEY: 'top-secret',
      CATALOG_URL: 'http://user:pa55@catalog:3001',
      CATALOG_API_KEY: undefined,
      DB_PASSWORD: 'pw',
      MONKEY_COUNT: 3,
    });
    expect(out).toEqual({
      PORT: 3002,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: 10000,
      API_KEY: REDACTED,
      CATALOG_URL: `http://${REDACTED}@catalog:3001`,
      CATALOG_API_KEY: null,
      DB_PASSWORD: REDACTED,
      MONKEY_COUNT: 3,
    });
    expect(JSON.stringify(out)).not.toMatch(/top-secret|pa55/);
  });
});

describe('redactUrlCredentials', () => {
  it.each([
    ['http://u:pw@h:1/p', `http://${REDACTED}@h:1/p`],
    ['http:u:pw@h', `http:${REDACTED}@h`],
    ['http:/u:pw@h', `http:/${REDACTED}@h`],
    ['http:\\\\u:pw@h', `http:\\\\${REDACTED}@h`],
    ['  https://u:pw@h', `  https://${REDACTED}@h`],
    ['http://u@x:pw@h/a@b', `http://${REDACTED}@h/a@b`],
    ['http://h/path@x', 'http://h/path@x'],
    ['plain text', 'plain text'],
  ])('%j -> %j', (input, expected) => {
    expect(redactUrlCredentials(input)).toBe(expected);
  });
});

describe('scrubSecrets', () => {
  it('replaces every occurrence of each secret of 4+ chars', () => {
    expect(scrubSecrets('a hunter2 b hunter2', ['hunter2', 'ab'])).toBe(`a ${REDACTED} b ${REDACTED}`);
  });
});
