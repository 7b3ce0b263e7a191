import { HealthCheckError, type CheckOutcome } from '@secure-ci/service-kit';
import { z } from 'zod';

export const catalogProductSchema = z.object({
  id: z.string(),
  name: z.string(),
  priceCents: z.number().int().nonnegative(),
});
export type CatalogProduct = z.output<typeof catalogProductSchema>;

export type CatalogFailure = 'unavailable' | 'timeout' | 'bad-response';

/** A failed call to catalog; `message` is safe to show to clients. */
export class CatalogError extends Error {
  constructor(
    readonly kind: CatalogFailure,
    message: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

export interface CatalogClientOptions {
  baseUrl: string;
  timeoutMs: number;
  apiKey?: string;
  fetch?: typeof fetch;
}

export interface CatalogClient {
  /** The product, or undefined when catalog says 404. Throws CatalogError. */
  getProduct(id: string, requestId?: string): Promise<CatalogProduct | undefined>;
  /** Readiness check: catalog's own /health/ready must answer 2xx. */
  checkReady(signal: AbortSignal): Promise<CheckOutcome>;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string; name?: string } }).cause;
  return cause?.code ?? cause?.name ?? 'network error';
}

/** AbortSignal.timeout rejects with a DOMException named TimeoutError (duck-typed: it may come from another realm). */
function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

export function createCatalogClient(options: CatalogClientOptions): CatalogClient {
  const fetchImpl = options.fetch ?? fetch;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const { timeoutMs } = options;

  function headers(requestId?: string): Record<string, string> {
    return {
      accept: 'application/json',
      ...(requestId ? { 'x-request-id': requestId } : {}),
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
  }

  return {
    async getProduct(id, requestId) {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const res = await fetchImpl(`${baseUrl}/products/${encodeURIComponent(id)}`, {
          headers: headers(requestId),
          signal,
          redirect: 'error',
        });
        if (res.status === 404) {
          await res.body?.cancel();
          return undefined;
        }
        if (!res.ok) {
          await res.body?.cancel();
          throw new CatalogError('bad-response', `catalog answered ${res.status}`);
        }
        if (Number(res.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) {
          await res.body?.cancel();
          throw new CatalogError('bad-response', 'catalog response too large');
        }
        let body: unknown;
        try {
          body = await res.json();
        } catch (err) {
          if (isTimeout(err)) throw err;
          throw new CatalogError('bad-response', 'catalog answered invalid JSON');
        }
        const parsed = catalogProductSchema.safeParse(body);
        if (!parsed.success) throw new CatalogError('bad-response', 'catalog answered an unexpected product shape');
        return parsed.data;
      } catch (err) {
        if (err instanceof CatalogError) throw err;
        if (isTimeout(err)) throw new CatalogError('timeout', `catalog did not answer within ${timeoutMs} ms`);
        throw new CatalogError('unavailable', `catalog is unreachable (${networkCode(err)})`);
      }
    },

    async checkReady(signal) {
      const started = performance.now();
      let res: Response;
      try {
        res = await fetchImpl(`${baseUrl}/health/ready`, { headers: headers(), signal, redirect: 'error' });
      } catch (err) {
        throw new HealthCheckError(isTimeout(err) ? 'catalog did not answer in time' : `catalog is unreachable (${networkCode(err)})`);
      }
      await res.body?.cancel();
      const observedValue = Math.round(performance.now() - started);
      if (!res.ok) throw new HealthCheckError(`catalog readiness answered ${res.status}`);
      return { status: 'pass', observedValue, observedUnit: 'ms' };
    },
  };
}
