import { createServer, type Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { checkApiKey, checkBearer } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import { BODY_LIMIT_BYTES, HttpError, httpErrors, notFoundResponse, toErrorResponse, type ErrorResponse } from '@secure-ci/service-kit';
import { applyTimeouts, httpServerOptions, resolveTimeouts } from '@secure-ci/service-kit';
import type { Logger } from '@secure-ci/service-kit';
import { createRequestLog } from '@secure-ci/service-kit';
import { answerExpectationFailed, bodyUnread, handleClientError, missingHost } from '@secure-ci/service-kit';
import { REQUEST_ID_HEADER, requestIdFrom } from '@secure-ci/service-kit';
import { kitRoutes } from '@secure-ci/service-kit';
import { securityHeaders } from '@secure-ci/service-kit';
import type { ListenOptions, ServiceHandle } from '@secure-ci/service-kit';
import {
  addressOf,
  closeAfterInFlight,
  isKitPath,
  reapIdleConnections,
  SHUTTING_DOWN_MESSAGE,
  trackConnections,
  type AdapterOptions,
} from '@secure-ci/service-kit';

declare module 'http' {
  interface IncomingMessage {
    /** The request id (x-request-id), set by the kit. */
    id: string;
    /** A child logger with the request id (reqId), created on first use. */
    log: Logger;
  }
}

/** Adds the service's own routes. Runs after the kit's middleware and routes, before the 404 and error handlers. */
export type ExpressRoutes<C extends ServiceContext = ServiceContext> = (app: Express, ctx: C) => void;

function requestIdOf(res: Response): string | undefined {
  const id = res.getHeader(REQUEST_ID_HEADER);
  return typeof id === 'string' ? id : undefined;
}

/** The unexpected error a response ended with, for its log line (logged with its stack). */
const FAILED_WITH = Symbol('kit.failedWith');
const REQUEST_LOG = Symbol('kit.log');

/** Set once the kit has answered a request whose body was still arriving (body-parser's late error is then moot). */
const ANSWERED_EARLY = Symbol('kit.answeredEarly');
type KitResponse = Response & { [ANSWERED_EARLY]?: boolean; [FAILED_WITH]?: Error };

function sendError(res: Response, response: ErrorResponse): void {
  // An error answered before the body was read (401, 413, 415...): close the connection instead of reading (and
  // discarding) a body of any size to keep it alive. Node closes it once this response is out.
  if (bodyUnread(res.req)) {
    res.setHeader('connection', 'close');
    (res as KitResponse)[ANSWERED_EARLY] = true;
  }
  res.status(response.status).set(response.headers).json(response.body);
}

/**
 * Stops a chunked body at the limit as it crosses it: express.json (body-parser) notices too, but then reads the
 * rest of the body, however long, before it answers. Content-Length bodies are refused before reading (guard below).
 */
function limitChunkedBody(req: Request, res: Response): void {
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= BODY_LIMIT_BYTES) return;
    req.off('data', onData);
    if (!res.headersSent) sendError(res, toErrorResponse(httpErrors.payloadTooLarge(), requestIdOf(res)));
  };
  // Attached just before express.json attaches its own 'data' listener in the same tick: no chunk is missed.
  req.on('data', onData);
}

/**
 * An express 5 app with the kit's hygiene (helmet headers, request ids, JSON logs, HTTP timeouts, auth on mutating
 * requests and /config, 100 kB JSON bodies, JSON 4xx/5xx for protocol errors too), the kit's routes and the
 * service's routes, plus listen/close with graceful drain.
 */
export function createExpressService<C extends ServiceContext>(ctx: C, routes: ExpressRoutes<C>, options: AdapterOptions = {}): ServiceHandle<Express> {
  const { logger, health, config } = ctx;
  const timeouts = resolveTimeouts(options.timeouts);
  const headers = Object.entries(securityHeaders());
  const requestLog = createRequestLog(logger, ctx.secretValues);
  const jsonBody = express.json({ limit: BODY_LIMIT_BYTES, strict: true });
  const app = express();
  app.disable('x-powered-by');
  // No ETag: the kit's JSON answers are per-request state (health, config: no-store); hashing each body is wasted.
  app.disable('etag');
  app.set('trust proxy', false);
  // req.log is created on first use only (most requests never log anything but their one line).
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request & { [REQUEST_LOG]?: Logger }) {
      return (this[REQUEST_LOG] ??= logger.child({ reqId: this.id }));
    },
  });

  // The kit's per-request work in one middleware (each express layer costs a dispatch): request id, security
  // headers, the request's log line, shutdown, Host, auth, body checks, then the JSON body parser only for a body.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = requestIdFrom(req.headers[REQUEST_ID_HEADER], ctx.secretValues);
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    for (const [name, value] of headers) res.setHeader(name, value);
    const started = performance.now();
    let logged = false;
    const completed = () => {
      if (logged) return;
      logged = true;
      const err = (res as KitResponse)[FAILED_WITH];
      requestLog({ reqId: id, req, statusCode: res.statusCode, responseTimeMs: performance.now() - started, err });
    };
    res.once('finish', completed);
    res.once('close', completed);

    if (health.state === 'shutting-down') {
      res.setHeader('connection', 'close');
      if (!isKitPath(req.path)) return sendError(res, toErrorResponse(new HttpError(503, SHUTTING_DOWN_MESSAGE), id));
    }
    if (missingHost(req)) return sendError(res, toErrorResponse(new HttpError(400, 'Missing Host header'), id));
    const denied = checkApiKey(config.API_KEY, req.method, req.headers.authorization, ctx.name);
    if (denied) return sendError(res, toErrorResponse(denied, id));
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const length = Number(req.headers['content-length'] ?? 0);
    if (!chunked && !(length > 0)) return next();
    if (!req.is('application/json')) {
      return sendError(res, toErrorResponse(new HttpError(415, 'Content-Type must be application/json'), id));
    }
    // Refused from its Content-Length, before a byte of it is read (body-parser would read it all first).
    if (length > BODY_LIMIT_BYTES) return sendError(res, toErrorResponse(httpErrors.payloadTooLarge(), id));
    if (chunked) limitChunkedBody(req, res);
    jsonBody(req, res, next);
  });

  for (const route of kitRoutes(ctx)) {
    app.get(route.path, async (req: Request, res: Response) => {
      if (route.requiresApiKey) {
        const denied = checkBearer(config.API_KEY, req.headers.authorization, ctx.name);
        if (denied) return sendError(res, toErrorResponse(denied, requestIdOf(res)));
      }
      const out = await route.handle();
      // Straight to node's response: the content type exactly as given, no ETag, no charset sniffing.
      const body = JSON.stringify(out.body);
      res.statusCode = out.status;
      for (const [name, value] of Object.entries(out.headers ?? {})) res.setHeader(name, value);
      res.setHeader('content-type', out.contentType);
      res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
    });
  }

  routes(app, ctx);

  app.use((_req: Request, res: Response) => sendError(res, notFoundResponse(requestIdOf(res))));
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if ((res as KitResponse)[ANSWERED_EARLY]) return; // body-parser's late error for a body the kit already refused
    if (res.headersSent) return next(err);
    const response = toErrorResponse(err, requestIdOf(res));
    if (response.log === 'error') (res as KitResponse)[FAILED_WITH] = err instanceof Error ? err : new Error(String(err));
    // A deliberate or client error is not a bug: its message, no stack (the stack would only point into the kit).
    else req.log.debug({ status: response.status, detail: err instanceof Error ? err.message : String(err) }, 'request rejected');
    sendError(res, response);
  });

  let server: Server | undefined;
  let closing: Promise<void> | undefined;

  return {
    app,
    context: ctx,
    get server() {
      return server;
    },
    async listen(listenOptions: ListenOptions = {}) {
      const srv = createServer(httpServerOptions(timeouts), app);
      applyTimeouts(srv, timeouts);
      trackConnections(srv);
      srv.on('clientError', (err: NodeJS.ErrnoException, socket) => handleClientError(logger, err, socket));
      srv.on('checkExpectation', (req, res) => answerExpectationFailed(logger, ctx.secretValues, req, res));
      server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(listenOptions.port ?? config.PORT, listenOptions.host ?? config.HOST, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      health.markStarted();
      return addressOf(srv);
    },
    close() {
      closing ??= (async () => {
        health.beginShutdown();
        const srv = server;
        if (!srv || !srv.listening) return;
        closeAfterInFlight(srv);
        const stopReaping = reapIdleConnections(srv);
        try {
          await new Promise<void>((resolve, reject) => srv.close((err) => (err ? reject(err) : resolve())));
        } finally {
          stopReaping();
        }
      })();
      return closing;
    },
  };
}
