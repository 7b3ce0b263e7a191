import { STATUS_CODES } from 'node:http';

export const BODY_LIMIT_BYTES = 100 * 1024;
const UNSUPPORTED_ENCODING = 'Content-Encoding is not supported';

export interface FieldIssue {
  field: string;
  message: string;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: string;
  message: string;
  requestId?: string;
  issues?: FieldIssue[];
}

/** An error whose status and message are safe to send to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: FieldIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const httpErrors = {
  badRequest: (message: string, issues?: FieldIssue[]) => new HttpError(400, message, issues),
  unauthorized: (message: string, realm: string) => new HttpError(401, message, undefined, { 'www-authenticate': `Bearer realm="${realm}"` }),
  notFound: (message = 'Not Found') => new HttpError(404, message),
  conflict: (message: string) => new HttpError(409, message),
  unprocessable: (message: string, issues?: FieldIssue[]) => new HttpError(422, message, issues),
  payloadTooLarge: () => new HttpError(413, `Request body exceeds ${BODY_LIMIT_BYTES} bytes`),
  unsupportedEncoding: () => new HttpError(415, UNSUPPORTED_ENCODING),
  insufficientStorage: (message: string) => new HttpError(507, message),
  badGateway: (message: string) => new HttpError(502, message),
  serviceUnavailable: (message: string) => new HttpError(503, message),
  gatewayTimeout: (message: string) => new HttpError(504, message),
};

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** 'error' for errors we did not expect (log with stack), 'none' for deliberate HttpErrors and client errors. */
  log: 'error' | 'none';
}

interface FrameworkError {
  status?: number;
  statusCode?: number;
  type?: string; // body-parser (express)
  code?: string; // fastify
}

const statusText = (status: number) => STATUS_CODES[status] ?? 'Error';

function clientError(status: number, message: string, requestId?: string): ErrorResponse {
  return { status, body: { error: statusText(status), message, ...(requestId ? { requestId } : {}) }, headers: {}, log: 'none' };
}

/**
 * Maps anything thrown in a request (kit HttpError, express body-parser and
 * fastify errors) to the response both adapters send. Unknown errors become a
 * bare 500 that reveals nothing but the request id.
 */
export function toErrorResponse(err: unknown, requestId?: string): ErrorResponse {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: {
        error: statusText(err.status),
        message: err.message,
        ...(requestId ? { requestId } : {}),
        ...(err.issues ? { issues: err.issues } : {}),
      },
      headers: err.headers ?? {},
      // Deliberate responses (an upstream being down included) are not bugs: no stack in the logs.
      log: 'none',
    };
  }
  const e = (err ?? {}) as FrameworkError;
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413 || e.type === 'entity.too.large') {
      return clientError(413, `Request body exceeds ${BODY_LIMIT_BYTES} bytes`, requestId);
    }
    if (e.type === 'entity.parse.failed' || err instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return clientError(400, 'Malformed JSON in request body', requestId);
    }
    if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return clientError(400, 'Request body is empty but Content-Type is application/json', requestId);
    }
    // body-parser: an encoding it does not inflate (fastify answers the same from the kit's hook)
    if (e.type === 'encoding.unsupported') return clientError(415, UNSUPPORTED_ENCODING, requestId);
    if (status === 415) return clientError(415, 'Content-Type must be application/json', requestId);
    return clientError(status, statusText(status), requestId);
  }
  return {
    status: 500,
    body: { error: 'Internal Server Error', message: 'Internal Server Error', ...(requestId ? { requestId } : {}) },
    headers: {},
    log: 'error',
  };
}

export function notFoundResponse(requestId?: string): ErrorResponse {
  return clientError(404, 'Route not found', requestId);
}
