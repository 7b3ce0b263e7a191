import { ProductStore } from './products';

describe('ProductStore', () => {
  it('is seeded with p-1, p-2 and p-3', () => {
    const store = ProductStore.seeded();
    expect(store.list().map((p) => p.id)).toEqual(['p-1', 'p-2', 'p-3']);
    expect(store.get('p-1')).toEqual({ id: 'p-1', sku: 'KB-001', name: 'Mechanical keyboard', priceCents: 8999 });
  });

  it('adds products with the next id and refuses duplicate skus', () => {
    const store = ProductStore.seeded();
    expect(store.add({ sku: 'NEW-1', name: 'New', priceCents: 1 })).toEqual({
      ok: true,
      product: { id: 'p-4', sku: 'NEW-1', name: 'New', priceCents: 1 },
    });
    expect(store.add({ sku: 'NEW-1', name: 'Again', priceCents: 2 })).toEqual({ ok: false, reason: 'duplicate-sku' });
  });

  it('refuses to grow past its capacity', () => {
    const store = ProductStore.seeded(3);
    expect(store.add({ sku: 'X', name: 'x', priceCents: 1 })).toEqual({ ok: false, reason: 'full' });
  });
});
