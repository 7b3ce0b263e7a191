import { randomUUID } from 'node:crypto';
import { DEFAULT_STORE_CAPACITY, MemoryStore } from '@secure-ci/service-kit';
import { z } from 'zod';

export const MAX_ORDERS = DEFAULT_STORE_CAPACITY;

export const newOrderSchema = z.strictObject({
  productId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"'),
  quantity: z.number().int().min(1).max(1000),
});
export type NewOrder = z.output<typeof newOrderSchema>;

export const orderIdSchema = z.strictObject({ id: z.uuid() });

export interface Order {
  id: string;
  productId: string;
  productName: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  createdAt: string;
}

/** In-memory orders, newest last. */
export class OrderStore {
  private readonly records: MemoryStore<Order>;

  constructor(capacity = MAX_ORDERS) {
    this.records = new MemoryStore(capacity);
  }

  list(): Order[] {
    return this.records.list();
  }

  get(id: string): Order | undefined {
    return this.records.get(id);
  }

  /** Undefined when the store is full. */
  add(order: Omit<Order, 'id' | 'createdAt'>, now = new Date()): Order | undefined {
    return this.records.insert({ id: randomUUID(), ...order, createdAt: now.toISOString() });
  }
}
