import { HealthCheckError } from '@secure-ci/service-kit';
import { CatalogError, createCatalogClient } from './catalog-client';

type Call = { url: string; init: RequestInit };

function fakeFetch(respond: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchImpl = (async (url: string, init: RequestInit) => {
    const call = { url, init };
    calls.push(call);
    return respond(call);
  }) as unknown as typeof fetch;
  return { calls, fetchImpl };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('catalog client', () => {
  it('GETs /products/<encoded id> with a timeout signal, no redirects, request id and bearer key', async () => {
    const { calls, fetchImpl } = fakeFetch(() => json(200, { id: 'p-1', name: 'K', priceCents: 5, sku: 'x' }));
    const client = createCatalogClient({ baseUrl: 'http://catalog:3001/', timeoutMs: 50, apiKey: 'k', fetch: fetchImpl });
    expect(await client.getProduct('p 1', 'rid')).toEqual({ id: 'p-1', name: 'K', priceCents: 5 });
    expect(calls[0].url).toBe('http://catalog:3001/products/p%201');
    expect(calls[0].init.redirect).toBe('error');
    expect(calls[0].init.signal).toBeDefined();
    expect(calls[0].init.headers).toEqual({ accept: 'application/json', 'x-request-id': 'rid', authorization: 'Bearer k' });
  });

  it('returns undefined on 404', async () => {
    const { fetchImpl } = fakeFetch(() => json(404, { error: 'Not Found' }));
    expect(await createCatalogClient({ baseUrl: 'http://c', timeoutMs: 50, fetch: fetchImpl }).getProduct('p-9')).toBeUndefined();
  });

  it('maps failures to CatalogError kinds', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    const cases: Array<[() => Response, string, string]> = [
      [
        () => {
          throw refused;
        },
        'unavailable',
        'catalog is unreachable (ECONNREFUSED)',
      ],
      [
        () => {
          throw timeout;
        },
        'timeout',
        'catalog did not answer within 50 ms',
      ],
      [() => json(500, {}), 'bad-response', 'catalog answered 500'],
      [() => new Response('{', { status: 200 }), 'bad-response', 'catalog answered invalid JSON'],
      [() => json(200, { id: 1 }), 'bad-response', 'catalog answered an unexpected product shape'],
    ];
    for (const [respond, kind, message] of cases) {
      const { fetchImpl } = fakeFetch(respond);
      const client = createCatalogClient({ baseUrl: 'http://c', timeoutMs: 50, fetch: fetchImpl });
      const err = await client.getProduct('p-1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CatalogError);
      expect([(err as CatalogError).kind, (err as CatalogError).message]).toEqual([kind, message]);
    }
  });

  it('checkReady passes on 2xx and fails with a safe message otherwise', async () => {
    const ok = fakeFetch(() => json(200, { status: 'pass' }));
    const signal = new AbortController().signal;
    const outcome = await createCatalogClient({ baseUrl: 'http://c', timeoutMs: 50, fetch: ok.fetchImpl }).checkReady(signal);
    expect(outcome).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(ok.calls[0].url).toBe('http://c/health/ready');
    expect(ok.calls[0].init.signal).toBe(signal);

    const down = fakeFetch(() => json(503, { status: 'fail' }));
    await expect(createCatalogClient({ baseUrl: 'http://c', timeoutMs: 50, fetch: down.fetchImpl }).checkReady(signal)).rejects.toEqual(
      new HealthCheckError('catalog readiness answered 503'),
    );
  });
});
