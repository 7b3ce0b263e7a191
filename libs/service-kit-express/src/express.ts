import { createServer, type Server, type ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { checkApiKey } from '@secure-ci/service-kit';
import type { ServiceContext } from '@secure-ci/service-kit';
import { BODY_LIMIT_BYTES, HttpError, notFoundResponse, toErrorResponse, type ErrorResponse } from '@secure-ci/service-kit';
import { serializers } from '@secure-ci/service-kit';
import { REQUEST_ID_HEADER, requestIdFrom } from '@secure-ci/service-kit';
import { kitRoutes } from '@secure-ci/service-kit';
import type { ListenOptions, ServiceHandle } from '@secure-ci/service-kit';
import { addressOf, isKitPath, reapIdleConnections, SHUTTING_DOWN_MESSAGE } from '@secure-ci/service-kit';

/** Adds the service's own routes. Runs after the kit's middleware and routes, before the 404 and error handlers. */
export type ExpressRoutes<C extends ServiceContext = ServiceContext> = (app: Express, ctx: C) => void;

function requestIdOf(res: Response): string | undefined {
  const id = res.getHeader(REQUEST_ID_HEADER);
  return typeof id === 'string' ? id : undefined;
}

function sendError(res: Response, response: ErrorResponse): void {
  res.status(response.status).set(response.headers).json(response.body);
}

/**
 * An express 5 app with the kit's hygiene (helmet, request ids, JSON logs,
 * auth on mutating requests, 100 kB JSON bodies, JSON 4xx/5xx), the kit's
 * routes and the service's routes, plus listen/close with graceful drain.
 */
export function createExpressService<C extends ServiceContext>(ctx: C, routes: ExpressRoutes<C>): ServiceHandle<Express> {
  const { logger, health, config } = ctx;
  const active = new Set<ServerResponse>();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    req.id = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    active.add(res);
    res.on('close', () => active.delete(res));
    next();
  });
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => req.id,
      quietReqLogger: true,
      wrapSerializers: false,
      serializers,
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );
  app.use(helmet());

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (health.state !== 'shutting-down') return next();
    res.setHeader('connection', 'close');
    if (isKitPath(req.path)) return next();
    sendError(res, toErrorResponse(new HttpError(503, SHUTTING_DOWN_MESSAGE), requestIdOf(res)));
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const denied = checkApiKey(config.API_KEY, req.method, req.headers.authorization, ctx.name);
    if (denied) return sendError(res, toErrorResponse(denied, requestIdOf(res)));
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) {
      return sendError(res, toErrorResponse(new HttpError(415, 'Content-Type must be application/json'), requestIdOf(res)));
    }
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT_BYTES, strict: true }));

  for (const route of kitRoutes(ctx)) {
    app.get(route.path, async (_req: Request, res: Response) => {
      const out = await route.handle();
      // A Buffer keeps the content type exactly as given (no "; charset" appended).
      res.status(out.status).set(out.headers ?? {}).set('content-type', out.contentType).send(Buffer.from(JSON.stringify(out.body)));
    });
  }

  routes(app, ctx);

  app.use((_req: Request, res: Response) => sendError(res, notFoundResponse(requestIdOf(res))));
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const response = toErrorResponse(err, requestIdOf(res));
    if (response.log === 'error') res.err = err instanceof Error ? err : new Error(String(err));
    else req.log.debug({ err }, 'request rejected');
    sendError(res, response);
  });

  let server: Server | undefined;
  let closing: Promise<void> | undefined;

  return {
    app,
    context: ctx,
    async listen(options: ListenOptions = {}) {
      const srv = createServer(app);
      server = srv;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(options.port ?? config.PORT, options.host ?? config.HOST, () => {
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
        for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
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
