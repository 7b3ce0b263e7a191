import { isIP } from 'node:net';
import { z } from 'zod';
import { readEnv, type FileReader } from './env';
import { isSecretSchema, secret, secretKeysOf } from './secret';
import { redactUrlCredentials, scrubSecrets } from './redact';

/** sysexits.h EX_CONFIG: the exit code for invalid configuration. */
export const EX_CONFIG = 78;

/**
 * The shortest API key accepted (API_KEY, CATALOG_API_KEY, ...): 16 printable ASCII characters is ~100 bits from a
 * random generator, and rules out placeholders like "changeme" or "secret".
 */
export const API_KEY_MIN_LENGTH = 16;

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 1-63 chars each, 253 in all. */
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

const hasCredentials = (value: string) => {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Field builders for environment variables (their input is always a string). */
export const env = {
  string: (opts: { min?: number; max?: number } = {}) =>
    z
      .string()
      .trim()
      .min(opts.min ?? 1, (opts.min ?? 1) > 1 ? `must be at least ${opts.min} characters` : 'must not be empty')
      .max(opts.max ?? 4096, `must be at most ${opts.max ?? 4096} characters`)
      .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  int: (opts: { min?: number; max?: number } = {}) => {
    const min = opts.min ?? 0;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    const message = `must be an integer between ${min} and ${max}`;
    return z
      .string()
      .trim()
      .regex(/^[+-]?\d{1,16}$/, message)
      .transform(Number)
      .pipe(z.number().int().min(min, message).max(max, message));
  },
  port: () => env.int({ min: 0, max: 65535 }),
  /**
   * An absolute URL without credentials: Node's fetch refuses URLs with user:password@ (and they would leak into
   * logs), so they are a config error; `credentialsVia` names the variable to use instead (e.g. CATALOG_API_KEY).
   */
  url: (opts: { protocols?: readonly string[]; credentialsVia?: string } = {}) => {
    const protocols = opts.protocols ?? ['http', 'https'];
    const message = `must be an absolute ${protocols.join('/')} URL`;
    const noCredentials = `must not contain credentials (user:password@)${opts.credentialsVia ? `; set ${opts.credentialsVia} instead` : ''}`;
    return z
      .string()
      .trim()
      .pipe(z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`), error: message }))
      .refine((value) => !hasCredentials(value), noCredentials)
      .transform((value) => value.replace(/\/+$/, ''));
  },
  /** A host to listen on: an IPv4/IPv6 address or an RFC 1123 host name (anything else cannot be bound). */
  host: () => env.string({ max: 253 }).refine((value) => isIP(value) !== 0 || HOSTNAME.test(value), 'must be an IP address or a host name'),
  enum: <const T extends readonly [string, ...string[]]>(values: T) =>
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(values, { error: `must be one of ${values.join(', ')}` })),
  /**
   * A secret string (an API key, a token), redacted everywhere: printable ASCII without spaces (what a client can
   * send in an Authorization header; anything else would lock every client out), at least API_KEY_MIN_LENGTH long.
   */
  secret: (opts: { min?: number } = {}) =>
    secret(
      z
        .string()
        .regex(/^[^\s\p{Cc}]*$/u, 'must not contain whitespace or control characters')
        .regex(/^[\x21-\x7e]*$/, 'must contain only printable ASCII characters')
        .min(opts.min ?? API_KEY_MIN_LENGTH, `must be at least ${opts.min ?? API_KEY_MIN_LENGTH} characters`)
        .max(4096, 'must be at most 4096 characters'),
    ),
  boolean: () =>
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }))
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
};

/** Fields every service has. PORT's default is per service. */
export function commonFields(defaultPort: number) {
  return {
    PORT: env.port().default(defaultPort),
    HOST: env.host().default('0.0.0.0'),
    LOG_LEVEL: env.enum(LOG_LEVELS).default('info'),
    SHUTDOWN_GRACE_MS: env.int({ min: 1, max: 3_600_000 }).default(10_000),
    API_KEY: env.secret().optional(),
  };
}

/** Builds a service's config schema: the common fields plus the service's own. */
export function defineConfig<const S extends z.ZodRawShape>(options: { defaultPort: number }, shape: S) {
  return z.object({ ...commonFields(options.defaultPort), ...shape });
}

/** The part of the config every service has. */
export type CommonConfig = z.output<z.ZodObject<ReturnType<typeof commonFields>>>;

/** A service config schema: build it with defineConfig so it has the common fields. */
export type ServiceConfigSchema = z.ZodObject;

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Invalid configuration. `message` is one line naming every bad variable and never contains a secret value. */
export class ConfigError extends Error {
  readonly exitCode = EX_CONFIG;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length;
    super(`invalid configuration (${count} problem${count === 1 ? '' : 's'}): ` + problems.map((p) => `${p.variable}: ${p.message}`).join('; '));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  readFile?: FileReader;
}

function quote(value: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(shown);
}

/**
 * Reads every field of the schema from the environment (NAME or NAME_FILE) and validates it.
 * Throws ConfigError listing every invalid or missing variable.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, options: LoadConfigOptions = {}): z.output<S> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const names = Object.keys(shape);
  const { values, problems } = readEnv(names, options.env ?? process.env, options.readFile);
  const secretKeys = new Set(secretKeysOf(schema));
  const secretValues = [...secretKeys].map((key) => values[key]).filter((v): v is string => v !== undefined);

  const failed = new Set(problems.map((p) => p.variable.replace(/_FILE$/, '')));
  const result = schema.safeParse(values);
  if (result.success && problems.length === 0) return result.data;

  const all: ConfigProblem[] = [...problems];
  if (!result.success) {
    const seen = new Set<string>();
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '(config)');
      if (failed.has(key) || seen.has(key)) continue;
      seen.add(key);
      const raw = values[key];
      let message: string;
      if (raw === undefined) message = `is required (set ${key} or ${key}_FILE)`;
      else if (secretKeys.has(key) || isSecretSchema(shape[key])) message = issue.message;
      // a non-secret value is echoed to help fixing it, but never credentials embedded in a URL
      else message = `${issue.message} (got ${quote(redactUrlCredentials(raw))})`;
      all.push({ variable: key, message });
    }
  }
  throw new ConfigError(all.map((p) => ({ variable: p.variable, message: scrubSecrets(p.message, secretValues) })));
}
