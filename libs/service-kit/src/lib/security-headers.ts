import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

let computed: Readonly<Record<string, string>> | undefined;

/**
 * helmet's default response headers, computed once. helmet's defaults do not depend on the request, so replaying
 * them is the same as running helmet on every request, minus its per-request work; and both adapters (and responses
 * the frameworks write outside their hooks: protocol errors, bad URLs) send exactly the same set.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  if (computed) return computed;
  const headers: Record<string, string> = {};
  const res = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: () => undefined,
  } as unknown as ServerResponse;
  helmet()({} as IncomingMessage, res, () => undefined);
  computed = Object.freeze(headers);
  return computed;
}
