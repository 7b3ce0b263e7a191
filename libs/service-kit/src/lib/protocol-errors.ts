import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from './logger';
import { scrubUrl } from './redact';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id';
import { securityHeaders } from './security-headers';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Status for an error Node's HTTP parser reports on a connection (before or instead of a request). */
export function clientErrorStatus(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') return 408;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  return 400;
}

function errorBody(status: number, message: string, requestId: string): string {
  return JSON.stringify({ error: STATUS_CODES[status] ?? 'Error', message, requestId });
}

/**
 * Answers a connection-level error (bad chunking, header overflow, request timeout, garbage) with the kit's JSON
 * error, security headers and a request id, logs it, and closes the connection. Node's own answer would be an empty
 * body, or nothing. Both adapters install it ("clientError").
 */
export function handleClientError(logger: Logger, err: NodeJS.ErrnoException, socket: Duplex): void {
  const httpMessage = (socket as { _httpMessage?: ServerResponse })._httpMessage;
  // A reset or a response already under way: nothing sensible can be written any more.
  if (err.code === 'ECONNRESET' || !socket.writable || httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err.code);
  const requestId = randomUUID();
  const body = errorBody(status, STATUS_CODES[status] ?? 'Bad Request', requestId);
  const headers = { ...securityHeaders(), [REQUEST_ID_HEADER]: requestId, 'content-type': JSON_TYPE, 'cache-control': 'no-store' };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  logger.info({ reqId: requestId, res: { statusCode: status }, code: err.code }, 'request completed');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  // allowHalfOpen servers keep reading after end(): stop once the answer is out (or soon, for a client that never reads).
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Answers a request whose Expect header is not "100-continue" with the kit's JSON 417 (Node's default has no body),
 * and closes the connection: the body that may follow is not read. Both adapters install it ("checkExpectation").
 */
export function answerExpectationFailed(logger: Logger, secretValues: readonly string[], req: IncomingMessage, res: ServerResponse): void {
  const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER], secretValues);
  const body = errorBody(417, 'Only "Expect: 100-continue" is supported', requestId);
  res.writeHead(417, {
    ...securityHeaders(),
    [REQUEST_ID_HEADER]: requestId,
    'content-type': JSON_TYPE,
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
  logger.info({ reqId: requestId, req: { method: req.method, url: scrubUrl(req.url ?? '', secretValues) }, res: { statusCode: 417 } }, 'request completed');
}

/** HTTP/1.1 requires Host (RFC 9112 §3.2); the adapters answer 400 when it is missing (requireHostHeader is off). */
export function missingHost(req: IncomingMessage): boolean {
  return req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
}

/** True while the request body has not been read to its end: an answer now must close the connection. */
export function bodyUnread(req: IncomingMessage): boolean {
  return !req.complete;
}
