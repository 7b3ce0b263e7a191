// Test helpers for the kit's own specs (not exported from the package).
import { Writable } from 'node:stream';
import type { RequestListener, Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { defineConfig, env, loadConfig } from '@secure-ci/service-kit';
import { createContext, type ServiceContext } from '@secure-ci/service-kit';
import { createLogger } from '@secure-ci/service-kit';
import type { ServiceHandle } from '@secure-ci/service-kit';

export interface LogCapture {
  stream: Writable;
  lines: string[];
  records(): Array<Record<string, unknown>>;
  text(): string;
}

export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return {
    stream,
    lines,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join('\n'),
  };
}

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const testSchema = defineConfig({ defaultPort: 0 }, { GREETING: env.string().default('hi') });

export function testContext(vars: Record<string, string> = {}, logs = captureLogs()): ServiceContext {
  const config = loadConfig(testSchema, { env: { HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...vars } });
  return createContext({
    name: 'kit-test',
    version: '9.8.7',
    schema: testSchema,
    config,
    logger: createLogger({ name: 'kit-test', level: 'debug', secretKeys: ['API_KEY'], destination: logs.stream }),
  });
}

export const itemSchema = z.strictObject({ name: z.string().min(1).max(50), qty: z.number().int().min(1) });

/** What supertest should talk to: the express app, or the fastify instance's server once ready. */
export async function requestTarget(handle: ServiceHandle): Promise<Server | RequestListener> {
  const app = handle.app as Partial<FastifyInstance>;
  if (typeof app.ready === 'function' && app.server) {
    await app.ready();
    return app.server;
  }
  return handle.app as RequestListener;
}
