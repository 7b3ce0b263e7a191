import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Accepted incoming request ids: 1-128 chars of letters, digits and . _ : / + = - */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** The caller's x-request-id if it is sane, otherwise a new random UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && VALID_REQUEST_ID.test(header) ? header : randomUUID();
}
