import { createContext, httpErrors, validate, type Logger, type ServiceHandle } from '@secure-ci/service-kit';
import { createExpressService } from '@secure-ci/service-kit-express';
import type { Express } from 'express';
import pkg from '../package.json';
import { CatalogError, createCatalogClient } from './catalog-client';
import { configSchema, type OrdersConfig } from './config';
import { newOrderSchema, orderIdSchema, OrderStore } from './orders';

export const service = { name: pkg.name, version: pkg.version };

export interface OrdersDeps {
  logger?: Logger;
  /** fetch used to call catalog (tests may wrap it). */
  fetch?: typeof fetch;
  store?: OrderStore;
}

function catalogFailure(err: CatalogError) {
  if (err.kind === 'timeout') return httpErrors.gatewayTimeout(err.message);
  if (err.kind === 'unavailable') return httpErrors.serviceUnavailable(err.message);
  return httpErrors.badGateway(err.message);
}

/** The orders service (express): POST /orders prices an order with catalog; GET /orders, GET /orders/:id. */
export async function buildApp(config: OrdersConfig, deps: OrdersDeps = {}): Promise<ServiceHandle<Express>> {
  const ctx = createContext({ ...service, schema: configSchema, config, logger: deps.logger });
  const store = deps.store ?? new OrderStore();
  const catalog = createCatalogClient({
    baseUrl: config.CATALOG_URL,
    timeoutMs: config.CATALOG_TIMEOUT_MS,
    apiKey: config.CATALOG_API_KEY,
    fetch: deps.fetch,
  });

  ctx.health.addCheck({
    name: 'catalog:responseTime',
    kinds: ['readiness'],
    required: true,
    timeoutMs: config.CATALOG_TIMEOUT_MS,
    run: (signal) => catalog.checkReady(signal),
  });

  return createExpressService(ctx, (app) => {
    app.get('/orders', (_req, res) => {
      res.json({ items: store.list() });
    });

    app.get('/orders/:id', (req, res) => {
      const { id } = validate(orderIdSchema, req.params, 'path parameters');
      const order = store.get(id);
      if (!order) throw httpErrors.notFound('Order not found');
      res.json(order);
    });

    app.post('/orders', async (req, res) => {
      const input = validate(newOrderSchema, req.body);
      let product;
      try {
        product = await catalog.getProduct(input.productId, String(req.id));
      } catch (err) {
        if (err instanceof CatalogError) {
          req.log.warn({ kind: err.kind, detail: err.message }, 'catalog call failed');
          throw catalogFailure(err);
        }
        throw err;
      }
      if (!product) {
        throw httpErrors.unprocessable('Unknown product', [{ field: 'productId', message: 'no such product in the catalog' }]);
      }
      const order = store.add({
        productId: product.id,
        productName: product.name,
        quantity: input.quantity,
        unitPriceCents: product.priceCents,
        totalCents: product.priceCents * input.quantity,
      });
      if (!order) throw httpErrors.insufficientStorage('The order store is full');
      res.status(201).location(`/orders/${order.id}`).json(order);
    });
  });
}
