import { defineConfig } from '@secure-ci/service-kit';
import type { z } from 'zod';

/** notifications has only the common fields (PORT defaults to 3003). */
export const configSchema = defineConfig({ defaultPort: 3003 }, {});
export type NotificationsConfig = z.output<typeof configSchema>;
