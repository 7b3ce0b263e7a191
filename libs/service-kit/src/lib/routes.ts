import { HEALTH_CONTENT_TYPE, type Probe } from './health';
import type { ServiceContext } from './context';

/** A framework-neutral response; the adapters send it as JSON. */
export interface KitResponse {
  status: number;
  contentType: string;
  headers?: Record<string, string>;
  body: unknown;
}

export interface KitRoute {
  method: 'GET';
  path: string;
  /** When the service has an API key, the route needs it (any method). */
  requiresApiKey?: boolean;
  handle: () => Promise<KitResponse>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_STORE = { 'cache-control': 'no-store' };

function healthRoute(ctx: ServiceContext, path: string, probe: Probe): KitRoute {
  return {
    method: 'GET',
    path,
    handle: async () => {
      const report = await ctx.health.report(probe);
      return { status: report.httpStatus, contentType: HEALTH_CONTENT_TYPE, headers: NO_STORE, body: report.body };
    },
  };
}

/** GET /, /health/live, /health/ready, /health/startup, /health and /config. */
export function kitRoutes(ctx: ServiceContext): KitRoute[] {
  return [
    {
      method: 'GET',
      path: '/',
      handle: async () => ({ status: 200, contentType: JSON_TYPE, body: { name: ctx.name, version: ctx.version } }),
    },
    healthRoute(ctx, '/health/live', 'live'),
    healthRoute(ctx, '/health/ready', 'ready'),
    healthRoute(ctx, '/health/startup', 'startup'),
    healthRoute(ctx, '/health', 'all'),
    {
      method: 'GET',
      path: '/config',
      // Topology and which keys are set are nobody else's business: behind the API key when there is one.
      requiresApiKey: true,
      handle: async () => ({ status: 200, contentType: JSON_TYPE, headers: NO_STORE, body: ctx.publicConfig }),
    },
  ];
}
