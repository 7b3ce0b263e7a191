import closeWithGrace from 'close-with-grace';
import type { Logger } from './logger';

export interface Closable {
  close(): Promise<void>;
}

export interface GracefulShutdownOptions {
  /** Hard deadline for the graceful part; after it the process exits 1. */
  graceMs: number;
  logger: Logger;
}

export interface GracefulShutdown {
  /** Starts the same graceful shutdown a signal would (then exits). */
  close(): void;
  /** Removes the signal/error listeners (tests). */
  uninstall(): void;
}

/**
 * SIGTERM/SIGINT (and the other signals close-with-grace handles, plus uncaught
 * errors) start a graceful shutdown of the service: readiness flips to 503,
 * the server stops accepting, in-flight requests finish, exit 0. A second
 * signal, an uncaught error or the SHUTDOWN_GRACE_MS deadline exits 1.
 */
export function installGracefulShutdown(service: Closable, options: GracefulShutdownOptions): GracefulShutdown {
  const { logger, graceMs } = options;
  return closeWithGrace(
    {
      delay: graceMs,
      logger: { error: (message: unknown) => logger.error({ detail: String(message) }, 'shutdown error') },
      onSecondSignal: (signal) => logger.error({ signal }, 'second signal during shutdown, exiting now'),
      onSecondError: (err) => logger.error({ err }, 'error during shutdown, exiting now'),
      onTimeout: (delay) => logger.error({ graceMs: delay }, 'graceful shutdown deadline reached, exiting'),
    },
    async ({ signal, err }) => {
      if (err) logger.fatal({ err }, 'uncaught error, shutting down');
      else logger.info({ signal: signal ?? 'exit' }, 'shutting down');
      await service.close();
      logger.info('shutdown complete');
    },
  );
}
