// A real tiny catalog on 127.0.0.1:<random port> for the orders specs.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProductMode = 'ok' | 'error-500' | 'invalid-json' | 'bad-shape' | 'hang';

export interface FakeCatalog {
  url: string;
  requests: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  /** Status of GET /health/ready, or 'hang' to never answer. */
  ready: number | 'hang';
  products: ProductMode;
  close(): Promise<void>;
}

export const PRODUCTS: Record<string, { id: string; sku: string; name: string; priceCents: number }> = {
  'p-1': { id: 'p-1', sku: 'KB-001', name: 'Mechanical keyboard', priceCents: 8999 },
  'p-2': { id: 'p-2', sku: 'MS-002', name: 'Wireless mouse', priceCents: 2999 },
};

export async function startFakeCatalog(): Promise<FakeCatalog> {
  const hanging: ServerResponse[] = [];
  const fake: FakeCatalog = {
    url: '',
    requests: [],
    ready: 200,
    products: 'ok',
    close: async () => {
      hanging.splice(0).forEach((res) => res.destroy());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const send = (res: ServerResponse, status: number, body: string, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const server = createServer((req, res) => {
    fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.url === '/health/ready') {
      if (fake.ready === 'hang') return void hanging.push(res);
      return send(res, fake.ready, JSON.stringify({ status: fake.ready === 200 ? 'pass' : 'fail' }), 'application/health+json');
    }
    const match = /^\/products\/([^/]+)$/.exec(req.url ?? '');
    if (!match) return send(res, 404, '{"error":"Not Found"}');
    switch (fake.products) {
      case 'hang':
        return void hanging.push(res);
      case 'error-500':
        return send(res, 500, '{"error":"Internal Server Error"}');
      case 'invalid-json':
        return send(res, 200, '{"id": "p-1", ');
      case 'bad-shape':
        return send(res, 200, JSON.stringify({ id: 'p-1', priceCents: 'free' }));
      default: {
        const product = PRODUCTS[decodeURIComponent(match[1])];
        return product ? send(res, 200, JSON.stringify(product)) : send(res, 404, '{"error":"Not Found"}');
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

/** A URL where nothing listens (a port that was just freed). */
export async function deadCatalogUrl(): Promise<string> {
  const fake = await startFakeCatalog();
  await fake.close();
  return fake.url;
}
