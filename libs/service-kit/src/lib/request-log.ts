import type { Logger } from './logger';
import { requestSerializers, type LoggableRequest } from './logger';

export interface CompletedRequest {
  reqId: string;
  req: LoggableRequest;
  statusCode: number;
  responseTimeMs: number;
  /** An unexpected error (logged with its stack); deliberate HttpErrors are not passed. */
  err?: Error;
}

/**
 * The one "request completed" line per request, the same in both adapters. The line holds only fields the kit
 * builds itself (no headers; the URL scrubbed of secret values), so it skips pino's redaction, which walks every
 * key of every line and was the largest per-request cost in profiles; a line with an error (whose fields the kit
 * does not control) goes through the redacting logger.
 */
export function createRequestLog(logger: Logger, secretValues: readonly string[]): (done: CompletedRequest) => void {
  const { req: serializeReq } = requestSerializers(secretValues);
  const same = <T>(value: T) => value;
  const plain = logger.child({}, { redact: { paths: [] }, serializers: { req: same, res: same } });
  return ({ reqId, req, statusCode, responseTimeMs, err }) => {
    const line = { reqId, req: serializeReq(req), res: { statusCode }, responseTime: Math.round(responseTimeMs) };
    if (err) logger.error({ ...line, err }, 'request completed');
    else if (statusCode >= 500) plain.error(line, 'request completed');
    else plain.info(line, 'request completed');
  };
}
