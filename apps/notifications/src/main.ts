import { runService } from '@secure-ci/service-kit';
import { buildApp, service } from './app';
import { configSchema } from './config';

void runService({ name: service.name, configSchema, build: (config) => buildApp(config) });
