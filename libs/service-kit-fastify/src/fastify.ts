import helmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkApiKey } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import { BODY_LIMIT_BYTES, HttpError, notFoundResponse, toErrorResponse, type ErrorResponse } from '@secure-ci/service-kit';
import { REQUEST_ID_HEADER, requestIdFrom } from '@secure-ci/service-kit';
import { kitRoutes } from '@secure-ci/service-kit';
import type { ListenOptions, ServiceHandle } from '@secure-ci/service-kit';
import { addressOf, isKitPath, reapIdleConnections, SHUTTING_DOWN_MESSAGE } from '@secure-ci/service-kit';

/** Adds the service's own routes (after the kit's hooks and routes). */
export type FastifyRoutes<C extends ServiceContext = ServiceContext> = (app: FastifyInstance, ctx: C) => void | Promise<void>;

function sendError(reply: FastifyReply, response: ErrorResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).type('application/json; charset=utf-8').send(response.body);
}

const pathOf = (request: FastifyRequest) => request.url.split('?', 1)[0];

/** One "request completed" line per request, shaped like pino-http's in the express adapter. */
class KitLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime), ...(error ? { err: error } : {}) };
    if (error || reply.statusCode >= 500) request.log.error(fields, 'request completed');
    else request.log.info(fields, 'request completed');
  }
}

/**
 * A fastify 5 app with the same hygiene and routes as the express adapter:
 * @fastify/helmet, request ids, JSON logs (one line per request), auth on
 * mutating requests, 100 kB JSON bodies, JSON 4xx/5xx, graceful drain.
 */
export async function createFastifyService<C extends ServiceContext>(
  ctx: C,
  routes: FastifyRoutes<C>,
): Promise<ServiceHandle<FastifyInstance>> {
  const { health, config } = ctx;
  const app = Fastify({
    loggerInstance: ctx.logger,
    logController: new KitLogController(),
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers[REQUEST_ID_HEADER]),
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    trustProxy: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }) as unknown as FastifyInstance;

  app.removeContentTypeParser('text/plain');
  await app.register(helmet, { global: true });

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (health.state === 'shutting-down' && !isKitPath(pathOf(request))) {
      return sendError(reply, toErrorResponse(new HttpError(503, SHUTTING_DOWN_MESSAGE), request.id));
    }
    const denied = checkApiKey(config.API_KEY, request.method, request.headers.authorization, ctx.name);
    if (denied) return sendError(reply, toErrorResponse(denied, request.id));
  });
  app.addHook('onSend', async (_request, reply) => {
    if (health.state === 'shutting-down') reply.header('connection', 'close');
  });

  app.setErrorHandler((err, request, reply) => {
    const response = toErrorResponse(err, request.id);
    if (response.log === 'error') request.log.error({ err }, 'request errored');
    else request.log.debug({ err }, 'request rejected');
    return sendError(reply, response);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, notFoundResponse(request.id)));

  for (const route of kitRoutes(ctx)) {
    app.get(route.path, async (_request, reply) => {
      const out = await route.handle();
      // A Buffer keeps the content type exactly as given (no "; charset" appended).
      return reply.code(out.status).headers(out.headers ?? {}).type(out.contentType).send(Buffer.from(JSON.stringify(out.body)));
    });
  }

  await routes(app, ctx);

  let closing: Promise<void> | undefined;
  return {
    app,
    context: ctx,
    async listen(options: ListenOptions = {}) {
      await app.listen({ port: options.port ?? config.PORT, host: options.host ?? config.HOST });
      health.markStarted();
      return addressOf(app.server);
    },
    close() {
      closing ??= (async () => {
        health.beginShutdown();
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
