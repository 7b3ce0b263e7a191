import type { z } from 'zod';
import type { CommonConfig } from './config';
import { createHealth, type Health } from './health';
import { createLogger, type Logger } from './logger';
import { redactConfig } from './redact';
import { secretKeysOf } from './secret';

/** Everything the kit's routes and adapters need about one running service. */
export interface ServiceContext<C extends CommonConfig = CommonConfig> {
  name: string;
  version: string;
  config: C;
  /** The config as /config shows it: secrets redacted. */
  publicConfig: Record<string, unknown>;
  /** Values of the secret fields that are set (scrubbed from logged URLs). */
  secretValues: readonly string[];
  logger: Logger;
  health: Health;
}

export interface ContextOptions<S extends z.ZodObject> {
  name: string;
  version: string;
  schema: S;
  config: z.output<S>;
  /** Defaults to a JSON logger on stdout at config.LOG_LEVEL. */
  logger?: Logger;
}

export function createContext<S extends z.ZodObject>(options: ContextOptions<S>): ServiceContext<z.output<S> & CommonConfig> {
  const config = options.config as z.output<S> & CommonConfig;
  const secretKeys = secretKeysOf(options.schema);
  const secretValues = secretKeys.map((key) => (config as Record<string, unknown>)[key]).filter((v): v is string => typeof v === 'string');
  const logger = options.logger ?? createLogger({ name: options.name, version: options.version, level: config.LOG_LEVEL, secretKeys, secretValues });
  const health = createHealth({
    serviceId: options.name,
    releaseId: options.version,
    onCheckError: (check, err) => logger.warn({ err, check }, 'health check threw'),
  });
  return {
    name: options.name,
    version: options.version,
    config,
    publicConfig: redactConfig(options.schema, config as Record<string, unknown>),
    secretValues,
    logger,
    health,
  };
}
