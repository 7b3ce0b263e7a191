import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How often idle keep-alive sockets are reaped while draining. */
export const IDLE_REAP_INTERVAL_MS = 100;

/**
 * Keeps closing idle keep-alive connections until stopped, so a socket that
 * becomes idle after its in-flight request finished does not hold shutdown
 * open for keepAliveTimeout.
 */
export function reapIdleConnections(server: Server): () => void {
  server.closeIdleConnections();
  const timer = setInterval(() => server.closeIdleConnections(), IDLE_REAP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function addressOf(server: Server): AddressInfo {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('server is not listening on a TCP port');
  return address;
}

/** Paths the kit serves itself; they keep answering (health says "fail") during shutdown. */
export function isKitPath(path: string): boolean {
  return path === '/' || path === '/config' || path === '/health' || path.startsWith('/health/');
}

export const SHUTTING_DOWN_MESSAGE = 'Service is shutting down';
