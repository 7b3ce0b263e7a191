import { createContext, httpErrors, validate, type Logger, type ServiceHandle } from '@secure-ci/service-kit';
import { createFastifyService } from '@secure-ci/service-kit-fastify';
import type { FastifyInstance } from 'fastify';
import pkg from '../package.json';
import { configSchema, type CatalogConfig } from './config';
import { newProductSchema, productIdSchema, ProductStore } from './products';

export const service = { name: pkg.name, version: pkg.version };

export interface CatalogDeps {
  logger?: Logger;
  store?: ProductStore;
}

/** The catalog service (fastify): GET /products, GET /products/:id, POST /products. */
export function buildApp(config: CatalogConfig, deps: CatalogDeps = {}): Promise<ServiceHandle<FastifyInstance>> {
  const ctx = createContext({ ...service, schema: configSchema, config, logger: deps.logger });
  const store = deps.store ?? ProductStore.seeded();

  return createFastifyService(ctx, (app) => {
    app.get('/products', async () => ({ items: store.list() }));

    app.get('/products/:id', async (request) => {
      const { id } = validate(productIdSchema, request.params, 'path parameters');
      const product = store.get(id);
      if (!product) throw httpErrors.notFound('Product not found');
      return product;
    });

    app.post('/products', async (request, reply) => {
      const input = validate(newProductSchema, request.body);
      const result = store.add(input);
      if (!result.ok) {
        throw result.reason === 'full' ? httpErrors.insufficientStorage('The catalog is full') : httpErrors.conflict('A product with this sku already exists');
      }
      return reply.code(201).header('location', `/products/${result.product.id}`).send(result.product);
    });
  });
}
