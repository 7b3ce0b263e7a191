import pino, { type DestinationStream, type Logger } from 'pino';
import { REDACTED, scrubUrl } from './redact';

export type { Logger } from 'pino';

/** Header paths that are always redacted, whatever object they are logged under. */
const HEADER_PATHS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'].flatMap((h) => [
  `req.headers["${h}"]`,
  `res.headers["${h}"]`,
  `headers["${h}"]`,
  `*.headers["${h}"]`,
]);

/** pino redact paths for the auth headers, cookies and the given secret config keys. */
export function redactPaths(secretKeys: readonly string[] = []): string[] {
  const secretPaths = secretKeys.flatMap((key) => [key, `config.${key}`, `*.${key}`]);
  return [...HEADER_PATHS, ...secretPaths];
}

export interface LoggableRequest {
  id?: unknown;
  method?: string;
  url?: string;
  originalUrl?: string;
  ip?: string;
  /** Already serialized (the serializer is idempotent). */
  remoteAddress?: string;
  socket?: { remoteAddress?: string };
}

/**
 * The same compact request/response shape for express (pino-http) and fastify.
 * Headers are deliberately not logged; secret values (the configured API key) are scrubbed from URLs.
 */
export function requestSerializers(secretValues: readonly string[] = []) {
  return {
    req(req: LoggableRequest) {
      return {
        id: req.id,
        method: req.method,
        url: scrubUrl(req.originalUrl ?? req.url ?? '', secretValues),
        remoteAddress: req.remoteAddress ?? req.socket?.remoteAddress ?? req.ip,
      };
    },
    res(res: { statusCode?: number }) {
      return { statusCode: res.statusCode };
    },
    err: pino.stdSerializers.err,
  };
}

export const serializers = requestSerializers();

export interface LoggerOptions {
  name: string;
  version?: string;
  level?: string;
  secretKeys?: readonly string[];
  /** Secret values to scrub from logged URLs. */
  secretValues?: readonly string[];
  /** Defaults to stdout. Tests pass a stream to capture the output. */
  destination?: DestinationStream;
}

/** JSON logs (pino) with ISO timestamps, level labels and redaction of secrets. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid, ...(options.version ? { version: options.version } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Unset values stay null/undefined so the logs do not claim a secret is set when it is not.
      redact: { paths: redactPaths(options.secretKeys), censor: (value: unknown) => (value == null ? value : REDACTED) },
      serializers: requestSerializers(options.secretValues),
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
