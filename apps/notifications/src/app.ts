import { createContext, httpErrors, validate, type Logger, type ServiceHandle } from '@secure-ci/service-kit';
import { createFastifyService } from '@secure-ci/service-kit-fastify';
import type { FastifyInstance } from 'fastify';
import pkg from '../package.json';
import { configSchema, type NotificationsConfig } from './config';
import { newNotificationSchema, notificationIdSchema, NotificationStore } from './notifications';

export const service = { name: pkg.name, version: pkg.version };

export interface NotificationsDeps {
  logger?: Logger;
  store?: NotificationStore;
}

/** The notifications service (fastify): POST /notifications, GET /notifications, GET /notifications/:id. */
export function buildApp(config: NotificationsConfig, deps: NotificationsDeps = {}): Promise<ServiceHandle<FastifyInstance>> {
  const ctx = createContext({ ...service, schema: configSchema, config, logger: deps.logger });
  const store = deps.store ?? new NotificationStore();

  return createFastifyService(ctx, (app) => {
    app.get('/notifications', async () => ({ items: store.list() }));

    app.get('/notifications/:id', async (request) => {
      const { id } = validate(notificationIdSchema, request.params, 'path parameters');
      const notification = store.get(id);
      if (!notification) throw httpErrors.notFound('Notification not found');
      return notification;
    });

    app.post('/notifications', async (request, reply) => {
      const input = validate(newNotificationSchema, request.body);
      const notification = store.add(input);
      if (!notification) throw httpErrors.insufficientStorage('The notification store is full');
      return reply.code(201).header('location', `/notifications/${notification.id}`).send(notification);
    });
  });
}
