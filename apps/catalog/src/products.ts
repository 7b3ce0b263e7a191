import { DEFAULT_STORE_CAPACITY, MemoryStore } from '@secure-ci/service-kit';
import { z } from 'zod';

export const MAX_PRODUCTS = DEFAULT_STORE_CAPACITY;

export const newProductSchema = z.strictObject({
  sku: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  name: z.string().trim().min(1).max(200),
  priceCents: z.number().int().min(0).max(100_000_000),
});
export type NewProduct = z.output<typeof newProductSchema>;

export const productIdSchema = z.strictObject({ id: z.string().regex(/^p-\d{1,9}$/, 'must look like p-123') });

export interface Product extends NewProduct {
  id: string;
}

export type AddResult = { ok: true; product: Product } | { ok: false; reason: 'duplicate-sku' | 'full' };

/** In-memory products, ids "p-1", "p-2", ... in creation order. */
export class ProductStore {
  private readonly records: MemoryStore<Product>;
  private nextId = 1;

  constructor(capacity = MAX_PRODUCTS) {
    this.records = new MemoryStore(capacity);
  }

  /** The three products every catalog starts with (ids p-1, p-2, p-3 are stable). */
  static seeded(capacity = MAX_PRODUCTS): ProductStore {
    const store = new ProductStore(capacity);
    store.add({ sku: 'KB-001', name: 'Mechanical keyboard', priceCents: 8999 });
    store.add({ sku: 'MS-002', name: 'Wireless mouse', priceCents: 2999 });
    store.add({ sku: 'MN-003', name: '27-inch monitor', priceCents: 24999 });
    return store;
  }

  list(): Product[] {
    return this.records.list();
  }

  get(id: string): Product | undefined {
    return this.records.get(id);
  }

  add(input: NewProduct): AddResult {
    if (this.list().some((p) => p.sku === input.sku)) return { ok: false, reason: 'duplicate-sku' };
    if (this.records.full) return { ok: false, reason: 'full' };
    const product: Product = { id: `p-${this.nextId++}`, ...input };
    this.records.insert(product);
    return { ok: true, product };
  }
}
