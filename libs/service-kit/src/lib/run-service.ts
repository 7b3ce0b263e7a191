import type { z } from 'zod';
import { ConfigError, EX_CONFIG, loadConfig, type CommonConfig, type ServiceConfigSchema } from './config';
import { installGracefulShutdown } from './lifecycle';
import type { ServiceHandle } from './service';

export interface RunServiceOptions<S extends ServiceConfigSchema> {
  /** Prefix of the one-line config error on stderr. */
  name: string;
  configSchema: S;
  /** Builds the service from a valid config (the app's buildApp). */
  build: (config: z.output<S>) => ServiceHandle | Promise<ServiceHandle>;
  env?: NodeJS.ProcessEnv;
  stderr?: { write(text: string): unknown };
  /** Defaults to process.exit (stderr is synchronous for files and pipes, so the line is not lost). */
  exit?: (code: number) => void;
}

/** listen() errors that mean HOST is not an address of this machine (or does not resolve). */
const UNBINDABLE_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EADDRNOTAVAIL']);

/** One line for operators; the stack only when asked for with LOG_LEVEL=debug|trace (it is a bug, not bad input). */
function describe(err: unknown, logLevel: string | undefined): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const line = `${err.message.split('\n')[0]}${code ? ` (${code})` : ''}`;
  return (logLevel === 'debug' || logLevel === 'trace') && err.stack ? `${line}\n${err.stack}` : line;
}

/**
 * The whole entrypoint: load config (invalid -> one line on stderr, exit 78),
 * build the app, install graceful shutdown, listen. Resolves with the running
 * service, or undefined after calling exit (78 for config, 1 for other startup failures).
 */
export async function runService<S extends ServiceConfigSchema>(options: RunServiceOptions<S>): Promise<ServiceHandle | undefined> {
  const stderr = options.stderr ?? process.stderr;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let loaded: z.output<S>;
  try {
    loaded = loadConfig(options.configSchema, { env: options.env ?? process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stderr.write(`${options.name}: ${err.message}\n`);
    exit(EX_CONFIG);
    return undefined;
  }

  let handle: ServiceHandle;
  try {
    handle = await options.build(loaded);
  } catch (err) {
    stderr.write(`${options.name}: failed to start: ${describe(err, (loaded as unknown as CommonConfig).LOG_LEVEL)}\n`);
    exit(1);
    return undefined;
  }

  const { logger, publicConfig, config } = handle.context;
  logger.info({ config: publicConfig }, 'starting');
  const graceMs = config.SHUTDOWN_GRACE_MS;
  installGracefulShutdown(handle, { graceMs, logger });
  try {
    const address = await handle.listen();
    logger.info({ address: address.address, port: address.port }, 'listening');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    logger.fatal({ code }, `failed to start: ${err instanceof Error ? err.message : String(err)}`);
    // The log may be silenced (LOG_LEVEL=silent) or go nowhere an operator looks: say it on stderr too. A HOST that
    // names no local address is configuration, not a crash: exit 78 like any other invalid variable.
    if (code && UNBINDABLE_HOST.has(code)) {
      stderr.write(`${options.name}: invalid configuration (1 problem): HOST: cannot listen on ${JSON.stringify(config.HOST)} (${code})\n`);
      exit(EX_CONFIG);
    } else {
      stderr.write(`${options.name}: failed to start: ${describe(err, config.LOG_LEVEL)}\n`);
      exit(1);
    }
    return undefined;
  }
  return handle;
}
