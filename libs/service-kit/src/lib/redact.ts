import type { z } from 'zod';
import { secretKeysOf } from './secret';

export const REDACTED = '[REDACTED]';

/**
 * Removes the user and password part of URL-looking strings: http://u:p@h -> http://[REDACTED]@h.
 * Purely textual on purpose: an invalid URL (bad port, say) can still carry real credentials. It follows the WHATWG
 * parser's leniency, which Node's URL applies: leading spaces, any number of slashes or backslashes after the scheme
 * (http:u:p@h, http:/u:p@h, http:\\u:p@h all mean http://u:p@h), and the authority ending at the first / ? # or \
 * (the credentials run to its last @).
 */
export function redactUrlCredentials(value: string): string {
  return value.replace(/^(\s*[a-z][a-z0-9+.-]*:[/\\]*)[^/?#\\]*@/i, `$1${REDACTED}@`);
}

/**
 * The effective configuration as safe to show: secret fields become "[REDACTED]"
 * when set and null when unset; credentials embedded in URLs are masked.
 * Every field of the schema appears (unset ones as null).
 */
export function redactConfig(schema: z.ZodObject, config: Record<string, unknown>): Record<string, unknown> {
  const secrets = new Set(secretKeysOf(schema));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = config[key];
    if (secrets.has(key)) out[key] = value === undefined || value === null ? null : REDACTED;
    else if (typeof value === 'string') out[key] = redactUrlCredentials(value);
    else out[key] = value === undefined ? null : value;
  }
  return out;
}

/** Replaces every occurrence of each secret value in text (values shorter than 4 chars are left alone). */
export function scrubSecrets(text: string, secretValues: Iterable<string>): string {
  let out = text;
  for (const value of secretValues) {
    if (value.length >= 4) out = out.split(value).join(REDACTED);
  }
  return out;
}

/**
 * A request URL as safe to log: every secret value (an API key sent in a query string, say) replaced, also when
 * the client percent-encoded it. Cheap when no secret is configured or none occurs.
 */
export function scrubUrl(url: string, secretValues: readonly string[]): string {
  if (secretValues.length === 0) return url;
  const scrubbed = scrubSecrets(url, secretValues);
  if (!url.includes('%')) return scrubbed;
  let decoded: string;
  try {
    decoded = decodeURIComponent(scrubbed);
  } catch {
    return scrubbed; // not decodable: the secret cannot hide behind an encoding the server would not decode either
  }
  const decodedScrubbed = scrubSecrets(decoded, secretValues);
  // Only an encoded secret changes the decoded form: then log that (decoded) form, else keep the URL as sent.
  return decodedScrubbed === decoded ? scrubbed : decodedScrubbed;
}
