// The baseline for bench/http.mjs: fastify set up the standard careful way (pino request logging + @fastify/helmet,
// nothing else), serving the same endpoints as the kit's catalog. PRODUCTS_FILE: the catalog's /products items.
import { readFileSync } from 'node:fs';
import helmet from '@fastify/helmet';
import Fastify from 'fastify';

const items = JSON.parse(readFileSync(process.env.PRODUCTS_FILE, 'utf8'));
const app = Fastify({ logger: { level: 'info' } });
await app.register(helmet);
app.get('/health/ready', async (_request, reply) => reply.type('application/health+json').send({ status: 'pass' }));
app.get('/products', async () => ({ items }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
