import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Accepted incoming request ids: 1-128 chars of letters, digits and . _ : / + = - */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/**
 * The caller's x-request-id if it is sane, otherwise a new random UUID. An id containing a configured secret (a
 * client that put its API key there) is replaced too: the id is echoed and logged with every line of the request.
 */
export function requestIdFrom(header: string | string[] | undefined, secretValues: readonly string[] = []): string {
  if (typeof header !== 'string' || !VALID_REQUEST_ID.test(header)) return randomUUID();
  for (const secret of secretValues) if (header.includes(secret)) return randomUUID();
  return header;
}
