import { randomUUID } from 'node:crypto';
import { DEFAULT_STORE_CAPACITY, MemoryStore } from '@secure-ci/service-kit';
import { z } from 'zod';

export const MAX_NOTIFICATIONS = DEFAULT_STORE_CAPACITY;

const message = z.string().trim().min(1).max(2000);

/** {recipient, channel, message}; the recipient must fit the channel (email address or E.164 phone number). */
export const newNotificationSchema = z.discriminatedUnion('channel', [
  z.strictObject({ channel: z.literal('email'), recipient: z.email({ error: 'must be an email address' }).max(254), message }),
  z.strictObject({
    channel: z.literal('sms'),
    recipient: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number, e.g. +4915112345678'),
    message: message.max(640),
  }),
]);
export type NewNotification = z.output<typeof newNotificationSchema>;

export const notificationIdSchema = z.strictObject({ id: z.uuid() });

export type Notification = NewNotification & { id: string; status: 'queued'; createdAt: string };

/** In-memory notification inbox (nothing is actually sent). */
export class NotificationStore {
  private readonly records: MemoryStore<Notification>;

  constructor(capacity = MAX_NOTIFICATIONS) {
    this.records = new MemoryStore(capacity);
  }

  list(): Notification[] {
    return this.records.list();
  }

  get(id: string): Notification | undefined {
    return this.records.get(id);
  }

  /** Undefined when the store is full. */
  add(input: NewNotification, now = new Date()): Notification | undefined {
    return this.records.insert({ id: randomUUID(), ...input, status: 'queued', createdAt: now.toISOString() });
  }
}
