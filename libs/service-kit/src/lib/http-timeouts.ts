import type { Server, ServerOptions } from 'node:http';

/** The HTTP server timeouts both adapters set (the same in each; README "HTTP hygiene"). */
export interface HttpTimeouts {
  /** Whole request head (request line + headers) must arrive within this; slow-header (slowloris) clients get 408. */
  headersTimeoutMs: number;
  /** Whole request, body included, must arrive within this; a body trickled in byte by byte gets 408. */
  requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this. Longer than the 60 s idle timeout common load balancers use,
   * so the balancer, not the service, closes idle connections (otherwise it may reuse one the service just closed).
   * Shutdown does not wait for it: idle connections are closed at once.
   */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two request timeouts (its default, 30 s, would let a timeout overrun by 30 s). */
  checkIntervalMs: number;
}

export const HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  checkIntervalMs: 1_000,
});

export function resolveTimeouts(overrides: Partial<HttpTimeouts> = {}): HttpTimeouts {
  return { ...HTTP_TIMEOUTS, ...overrides };
}

/**
 * Options for http.createServer. requireHostHeader is off because Node would answer a missing Host with an empty 400
 * of its own; the adapters reject it themselves with the kit's JSON error instead.
 */
export function httpServerOptions(timeouts: HttpTimeouts): ServerOptions {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionsCheckingInterval: timeouts.checkIntervalMs,
    requireHostHeader: false,
  };
}

/** Sets the timeouts on a server (also where a framework overwrites the constructor's values). */
export function applyTimeouts(server: Server, timeouts: HttpTimeouts): void {
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
}
