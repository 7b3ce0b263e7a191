import { newOrderSchema, OrderStore } from './orders';

describe('OrderStore', () => {
  it('stores orders with a uuid and creation time', () => {
    const store = new OrderStore();
    const order = store.add({ productId: 'p-1', productName: 'K', quantity: 2, unitPriceCents: 5, totalCents: 10 }, new Date('2030-01-01T00:00:00Z'));
    expect(order).toMatchObject({ productId: 'p-1', totalCents: 10, createdAt: '2030-01-01T00:00:00.000Z' });
    expect(order?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(store.get(order!.id)).toBe(order);
    expect(store.list()).toEqual([order]);
  });

  it('refuses to grow past its capacity', () => {
    const store = new OrderStore(1);
    const line = { productId: 'p-1', productName: 'K', quantity: 1, unitPriceCents: 1, totalCents: 1 };
    expect(store.add(line)).toBeDefined();
    expect(store.add(line)).toBeUndefined();
  });
});

describe('newOrderSchema', () => {
  it('accepts a product id and a quantity 1..1000 only', () => {
    expect(newOrderSchema.safeParse({ productId: 'p-1', quantity: 1000 }).success).toBe(true);
    for (const bad of [{ productId: 'p/1', quantity: 1 }, { productId: 'p-1', quantity: 1001 }, { productId: 'p-1', quantity: 1.5 }, { productId: 'p-1' }]) {
      expect(newOrderSchema.safeParse(bad).success).toBe(false);
    }
  });
});
