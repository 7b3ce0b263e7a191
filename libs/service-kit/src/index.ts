// @secure-ci/service-kit: config, health, logging and lifecycle for the services,
// framework-agnostic; the express and fastify adapters are @secure-ci/service-kit-express and -fastify.
export { readEnv, MAX_FILE_BYTES, type EnvProblem, type EnvReadResult, type FileReader } from './lib/env';
export { secret, isSecretSchema, secretKeysOf, secretFields, SECRET_NAME_PATTERN } from './lib/secret';
export { REDACTED, redactConfig, scrubSecrets } from './lib/redact';
export {
  env,
  commonFields,
  defineConfig,
  loadConfig,
  ConfigError,
  EX_CONFIG,
  LOG_LEVELS,
  type CommonConfig,
  type ServiceConfigSchema,
  type ConfigProblem,
  type LoadConfigOptions,
} from './lib/config';
export {
  Health,
  HealthCheckError,
  createHealth,
  HEALTH_CONTENT_TYPE,
  type HealthCheck,
  type HealthStatus,
  type HealthResponse,
  type HealthReport,
  type CheckKind,
  type CheckOutcome,
  type CheckResult,
  type Probe,
  type LifecycleState,
} from './lib/health';
export { createLogger, redactPaths, serializers, type Logger, type LoggerOptions } from './lib/logger';
export { requestIdFrom, REQUEST_ID_HEADER } from './lib/request-id';
export { HttpError, httpErrors, toErrorResponse, notFoundResponse, BODY_LIMIT_BYTES, type ErrorBody, type ErrorResponse, type FieldIssue } from './lib/errors';
export { validate, toFieldIssues } from './lib/validate';
export { checkApiKey, checkBearer, isMutating } from './lib/auth';
export { createContext, type ServiceContext, type ContextOptions } from './lib/context';
export { kitRoutes, type KitRoute, type KitResponse } from './lib/routes';
export type { ServiceHandle, ListenOptions } from './lib/service';
export { installGracefulShutdown, type GracefulShutdown, type GracefulShutdownOptions, type Closable } from './lib/lifecycle';
export { runService, type RunServiceOptions } from './lib/run-service';
export { MemoryStore, DEFAULT_STORE_CAPACITY } from './lib/memory-store';
// What both framework adapters (@secure-ci/service-kit-express, -fastify) share: one behaviour, written once.
export {
  addressOf,
  closeAfterInFlight,
  isKitPath,
  reapIdleConnections,
  trackConnections,
  IDLE_REAP_INTERVAL_MS,
  SHUTTING_DOWN_MESSAGE,
  type AdapterOptions,
} from './adapters/shared';
export * from './lib/http-timeouts';
export * from './lib/request-log';
export * from './lib/protocol-errors';
export * from './lib/security-headers';
