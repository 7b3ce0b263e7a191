import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceContext } from './context';

export interface ListenOptions {
  port?: number;
  host?: string;
}

/** What both adapters return: the framework app plus listen/close with the kit's lifecycle. */
export interface ServiceHandle<App = unknown> {
  app: App;
  context: ServiceContext;
  /** The node:http server once listening (its timeouts, connections). */
  readonly server: Server | undefined;
  /** Starts listening (defaults: config PORT/HOST) and marks the service started. */
  listen(options?: ListenOptions): Promise<AddressInfo>;
  /**
   * Graceful stop: readiness fails at once, the listener closes, idle keep-alive
   * connections are closed, in-flight requests finish. Idempotent.
   */
  close(): Promise<void>;
}
