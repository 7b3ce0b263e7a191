import { defineConfig, env } from '@secure-ci/service-kit';
import type { z } from 'zod';
import project from '../project.json'; // metadata.port: the port, declared once

export const configSchema = defineConfig(
  { defaultPort: project.metadata.port },
  {
    /** Base URL of the catalog service, e.g. http://catalog:<its metadata.port> (required). */
    CATALOG_URL: env.url({ credentialsVia: 'CATALOG_API_KEY' }),
    /** Timeout for every call to catalog, including the readiness check. */
    CATALOG_TIMEOUT_MS: env.int({ min: 1, max: 60_000 }).default(2000),
    /** Sent as `Authorization: Bearer` to catalog when set (secret). */
    CATALOG_API_KEY: env.secret().optional(),
  },
);
export type OrdersConfig = z.output<typeof configSchema>;
