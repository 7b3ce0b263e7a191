import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const MAX_ORDERS = 10_000;

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
  private readonly byId = new Map<string, Order>();

  constructor(private readonly capacity = MAX_ORDERS) {}

  list(): Order[] {
    return [...this.byId.values()];
  }

  get(id: string): Order | undefined {
    return this.byId.get(id);
  }

  /** Undefined when the store is full. */
  add(order: Omit<Order, 'id' | 'createdAt'>, now = new Date()): Order | undefined {
    if (this.byId.size >= this.capacity) return undefined;
    const stored: Order = { id: randomUUID(), ...order, createdAt: now.toISOString() };
    this.byId.set(stored.id, stored);
    return stored;
  }
}
