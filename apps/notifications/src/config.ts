import { defineConfig } from '@secure-ci/service-kit';
import type { z } from 'zod';
import project from '../project.json'; // metadata.port: the port, declared once

/** notifications has only the common fields (PORT defaults to metadata.port in project.json). */
export const configSchema = defineConfig({ defaultPort: project.metadata.port }, {});
export type NotificationsConfig = z.output<typeof configSchema>;
