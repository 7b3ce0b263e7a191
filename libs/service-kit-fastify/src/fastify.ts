import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkApiKey, checkBearer } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import { BODY_LIMIT_BYTES, HttpError, httpErrors, notFoundResponse, toErrorResponse, type ErrorResponse } from '@secure-ci/service-kit';
import { applyTimeouts, httpServerOptions, resolveTimeouts } from '@secure-ci/service-kit';
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

/** Adds the service's own routes (after the kit's hooks and routes). */
export type FastifyRoutes<C extends ServiceContext = ServiceContext> = (app: FastifyInstance, ctx: C) => void | Promise<void>;

function sendError(reply: FastifyReply, response: ErrorResponse): FastifyReply {
  // An error answered before the body was read (401, 413, 415...): close the connection rather than keep reading
  // the body. Node closes it once this response is out.
  if (bodyUnread(reply.request.raw)) reply.header('connection', 'close');
  return reply.code(response.status).headers(response.headers).type('application/json; charset=utf-8').send(response.body);
}

const pathOf = (request: FastifyRequest) => request.url.split('?', 1)[0];

/** Only identity bodies are read: fastify inflates nothing, so gzip & co. would reach the JSON parser as garbage. */
const unsupportedEncoding = (encoding: string | undefined) => encoding !== undefined && encoding.trim().toLowerCase() !== 'identity';

/** The kit's one "request completed" line per request (createRequestLog), as in the express adapter. */
class KitLogController extends LogController {
  constructor(private readonly log: ReturnType<typeof createRequestLog>) {
    super();
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.log({ reqId: request.id, req: request, statusCode: reply.statusCode, responseTimeMs: reply.elapsedTime, err: error ?? undefined });
  }
}

/**
 * A fastify 5 app with the same hygiene and routes as the express adapter: helmet headers, request ids, JSON logs
 * (one line per request), HTTP timeouts, auth on mutating requests and /config, 100 kB JSON bodies, JSON 4xx/5xx
 * (framework and protocol errors included), graceful drain.
 */
export async function createFastifyService<C extends ServiceContext>(
  ctx: C,
  routes: FastifyRoutes<C>,
  options: AdapterOptions = {},
): Promise<ServiceHandle<FastifyInstance>> {
  const { health, config, logger } = ctx;
  const timeouts = resolveTimeouts(options.timeouts);
  const security = securityHeaders();
  const requestLog = createRequestLog(logger, ctx.secretValues);
  const app = Fastify({
    loggerInstance: logger,
    logController: new KitLogController(requestLog),
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER], ctx.secretValues),
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    trustProxy: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // The same timeouts as the express adapter (fastify's own defaults never time a request out).
    http: httpServerOptions(timeouts),
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Connection-level errors (bad chunking, header overflow, timeouts): the kit's JSON answer, not fastify's.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => handleClientError(logger, err, socket),
    // Bad percent-encoding, over-long path parameters: the kit's JSON error (fastify's echoes the URL and has no
    // request id). These skip the onRequest hook, so the security headers and request id are set here.
    frameworkErrors: (err, request, reply) => {
      reply.headers(security).header(REQUEST_ID_HEADER, request.id);
      const status = (err as { statusCode?: number }).statusCode === 414 ? 414 : 400;
      sendError(reply, toErrorResponse(new HttpError(status, status === 414 ? 'Path parameter too long' : 'Malformed URL'), request.id));
      // fastify does not report these to the log controller: the one line per request, here.
      requestLog({ reqId: request.id, req: request, statusCode: status, responseTimeMs: 0 });
    },
  }) as unknown as FastifyInstance;
  applyTimeouts(app.server, timeouts);
  trackConnections(app.server);
  app.server.on('checkExpectation', (req, res) => answerExpectationFailed(logger, ctx.secretValues, req, res));

  app.removeContentTypeParser('text/plain');

  // Callback style, not async: this hook runs on every request, and an async one costs a promise and extra ticks.
  // Answering without calling done() ends the request here (fastify's documented way to reply from a hook).
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(security).header(REQUEST_ID_HEADER, request.id);
    if (health.state === 'shutting-down') {
      reply.header('connection', 'close');
      if (!isKitPath(pathOf(request))) return void sendError(reply, toErrorResponse(new HttpError(503, SHUTTING_DOWN_MESSAGE), request.id));
    }
    if (missingHost(request.raw)) return void sendError(reply, toErrorResponse(new HttpError(400, 'Missing Host header'), request.id));
    const denied = checkApiKey(config.API_KEY, request.method, request.headers.authorization, ctx.name);
    if (denied) return void sendError(reply, toErrorResponse(denied, request.id));
    if (unsupportedEncoding(request.headers['content-encoding'])) return void sendError(reply, toErrorResponse(httpErrors.unsupportedEncoding(), request.id));
    done();
  });

  app.setErrorHandler((err, request, reply) => {
    const response = toErrorResponse(err, request.id);
    if (response.log === 'error') request.log.error({ err }, 'request errored');
    // A deliberate or client error is not a bug: its message, no stack (the stack would only point into the kit).
    else request.log.debug({ status: response.status, detail: err instanceof Error ? err.message : String(err) }, 'request rejected');
    return sendError(reply, response);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, notFoundResponse(request.id)));

  for (const route of kitRoutes(ctx)) {
    app.get(route.path, async (request, reply) => {
      if (route.requiresApiKey) {
        const denied = checkBearer(config.API_KEY, request.headers.authorization, ctx.name);
        if (denied) return sendError(reply, toErrorResponse(denied, request.id));
      }
      const out = await route.handle();
      // A Buffer keeps the content type exactly as given (fastify appends "; charset" to strings).
      return reply
        .code(out.status)
        .headers(out.headers ?? {})
        .type(out.contentType)
        .send(Buffer.from(JSON.stringify(out.body)));
    });
  }

  await routes(app, ctx);

  let closing: Promise<void> | undefined;
  return {
    app,
    context: ctx,
    get server() {
      return app.server.listening ? app.server : undefined;
    },
    async listen(listenOptions: ListenOptions = {}) {
      await app.listen({ port: listenOptions.port ?? config.PORT, host: listenOptions.host ?? config.HOST });
      health.markStarted();
      return addressOf(app.server);
    },
    close() {
      closing ??= (async () => {
        health.beginShutdown();
        // In-flight responses close their connection (no per-request hook needed for that), the rest is closed now.
        closeAfterInFlight(app.server);
        const stopReaping = app.server.listening ? reapIdleConnections(app.server) : () => undefined;
        try {
          await app.close();
        } finally {
          stopReaping();
        }
      })();
      return closing;
    },
  };
}
