import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpTimeouts } from '../lib/http-timeouts';

/** Options both adapters take besides the context and routes. */
export interface AdapterOptions {
  /** Overrides of the kit's HTTP timeouts (HTTP_TIMEOUTS); tests use short ones. */
  timeouts?: Partial<HttpTimeouts>;
}

/** How often idle keep-alive sockets are reaped while draining. */
export const IDLE_REAP_INTERVAL_MS = 100;

/**
 * Keeps closing idle keep-alive connections until stopped, so a socket that
 * becomes idle after its in-flight request finished does not hold shutdown
 * open for keepAliveTimeout.
 */
export function reapIdleConnections(server: Server): () => void {
  const reap = () => {
    server.closeIdleConnections();
    destroyRequestlessSockets(server);
  };
  reap();
  const timer = setInterval(reap, IDLE_REAP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

const CONNECTIONS = Symbol('kit.connections');
type TrackedServer = Server & { [CONNECTIONS]?: Set<Socket> };

/**
 * Keeps the server's open connections (one listener per connection, nothing per request), so that shutdown can
 * close those with no response in progress, including ones that never sent a complete request head (pre-opened
 * by a load balancer, half-open, slowloris): closeIdleConnections spares those (Node counts a started request head
 * as activity), and they would hold shutdown until its deadline.
 */
export function trackConnections(server: Server): void {
  const sockets = new Set<Socket>();
  (server as TrackedServer)[CONNECTIONS] = sockets;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/** Shutdown: responses still in progress (headers not sent yet) will close their connection when done. */
export function closeAfterInFlight(server: Server): void {
  for (const socket of (server as TrackedServer)[CONNECTIONS] ?? []) {
    const res = (socket as Socket & { _httpMessage?: { headersSent: boolean; setHeader(n: string, v: string): void } })._httpMessage;
    if (res && !res.headersSent) res.setHeader('connection', 'close');
  }
}

/**
 * Destroys tracked connections with no response in progress. Node attaches the ServerResponse being written to its
 * socket (`_httpMessage`, what its own clientError handling checks) from the moment a request reaches the app until
 * that response is finished; a socket without one has no request the app knows of.
 */
function destroyRequestlessSockets(server: Server): void {
  for (const socket of (server as TrackedServer)[CONNECTIONS] ?? []) {
    if (!(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.destroy();
  }
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
