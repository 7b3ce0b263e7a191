import { createHash, timingSafeEqual } from 'node:crypto';
import { httpErrors, type HttpError } from './errors';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutating(method: string | undefined): boolean {
  return MUTATING.has((method ?? '').toUpperCase());
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * When an API key is configured, mutating requests need `Authorization: Bearer <key>`.
 * Returns the 401 to send, or undefined when the request may proceed.
 * The comparison is constant-time (over SHA-256 digests, so length is not leaked either).
 */
export function checkApiKey(apiKey: string | undefined, method: string | undefined, authorization: string | undefined, realm: string): HttpError | undefined {
  if (!apiKey || !isMutating(method)) return undefined;
  return checkBearer(apiKey, authorization, realm);
}

/**
 * When an API key is configured, any request needs `Authorization: Bearer <key>` (GET /config: it shows topology
 * and which keys are set). Returns the 401 to send, or undefined.
 */
export function checkBearer(apiKey: string | undefined, authorization: string | undefined, realm: string): HttpError | undefined {
  if (!apiKey) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return httpErrors.unauthorized('Missing bearer token', realm);
  if (!timingSafeEqual(digest(match[1]), digest(apiKey))) return httpErrors.unauthorized('Invalid bearer token', realm);
  return undefined;
}
