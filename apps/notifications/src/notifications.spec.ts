import { newNotificationSchema, NotificationStore } from './notifications';

describe('newNotificationSchema', () => {
  it('accepts an email or an E.164 sms recipient', () => {
    expect(newNotificationSchema.safeParse({ channel: 'email', recipient: 'a@example.com', message: 'hi' }).success).toBe(true);
    expect(newNotificationSchema.safeParse({ channel: 'sms', recipient: '+4915112345678', message: 'hi' }).success).toBe(true);
  });

  it('checks the recipient against the channel', () => {
    expect(newNotificationSchema.safeParse({ channel: 'email', recipient: '+4915112345678', message: 'hi' }).success).toBe(false);
    expect(newNotificationSchema.safeParse({ channel: 'sms', recipient: 'a@example.com', message: 'hi' }).success).toBe(false);
    expect(newNotificationSchema.safeParse({ channel: 'pigeon', recipient: 'a@example.com', message: 'hi' }).success).toBe(false);
  });
});

describe('NotificationStore', () => {
  it('queues notifications and refuses to grow past its capacity', () => {
    const store = new NotificationStore(1);
    const stored = store.add({ channel: 'email', recipient: 'a@example.com', message: 'hi' }, new Date('2030-01-01T00:00:00Z'));
    expect(stored).toMatchObject({ status: 'queued', createdAt: '2030-01-01T00:00:00.000Z' });
    expect(store.get(stored!.id)).toBe(stored);
    expect(store.add({ channel: 'email', recipient: 'b@example.com', message: 'hi' })).toBeUndefined();
  });
});
