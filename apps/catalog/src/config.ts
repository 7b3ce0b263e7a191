import { defineConfig } from '@secure-ci/service-kit';
import type { z } from 'zod';

/** catalog has only the common fields (PORT defaults to 3001). */
export const configSchema = defineConfig({ defaultPort: 3001 }, {});
export type CatalogConfig = z.output<typeof configSchema>;
