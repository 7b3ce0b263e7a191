// A tiny service for the lifecycle specs, bundled with esbuild and run as a child process.
// FIXTURE_ADAPTER=express|fastify. GET /slow holds its response until a line "release" arrives on stdin.
import { defineConfig } from '@secure-ci/service-kit';
import { createContext } from '@secure-ci/service-kit';
import { runService } from '@secure-ci/service-kit';
import { createExpressService } from '@secure-ci/service-kit-express';
import { createFastifyService } from '@secure-ci/service-kit-fastify';

const schema = defineConfig({ defaultPort: 0 }, {});
const waiting: Array<() => void> = [];

void runService({
  name: 'fixture',
  configSchema: schema,
  build: (config) => {
    const ctx = createContext({ name: 'fixture', version: '0.0.0', schema, config });
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (chunk.includes('release')) waiting.splice(0).forEach((release) => release());
    });
    const slow = async () => {
      ctx.logger.info('slow started');
      await new Promise<void>((resolve) => waiting.push(resolve));
      return { slow: 'done' };
    };
    if (process.env.FIXTURE_ADAPTER === 'express') {
      return createExpressService(ctx, (app) => {
        app.get('/slow', async (_req, res) => {
          res.json(await slow());
        });
      });
    }
    return createFastifyService(ctx, (app) => {
      app.get('/slow', slow);
    });
  },
});
