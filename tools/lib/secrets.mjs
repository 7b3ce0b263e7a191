// Build secrets in buildx syntax, and redaction of their values from anything we print.
import { readFileSync, statSync } from 'node:fs';
import { fail } from './errors.mjs';

const knownValues = new Set();

/** Remembers a secret value so redact() hides it from every later output. */
export function rememberSecret(value) {
  if (typeof value === 'string' && value.length >= 4) knownValues.add(value);
}

/** Parses `id=ID,src=FILE`, `id=ID,env=VAR` (also `source=`, `type=file|env`), like `docker buildx build --secret`. */
export function parseSecretSpec(spec) {
  const fields = {};
  for (const part of String(spec).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) fail(`--secret expects id=ID,src=FILE or id=ID,env=VAR; got '${part}'`);
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const unknown = Object.keys(fields).filter((key) => !['id', 'src', 'source', 'env', 'type'].includes(key));
  if (unknown.length) fail(`--secret: unknown field(s) ${unknown.join(', ')} (allowed: id, src, source, env, type)`);
  if (fields.type && !['file', 'env'].includes(fields.type)) fail(`--secret: type must be file or env, got '${fields.type}'`);
  const src = fields.src ?? fields.source;
  const id = fields.id ?? (fields.env && !src ? fields.env : undefined);
  if (!id || !/^[A-Za-z0-9_.-]+$/.test(id)) fail(`--secret: a valid id is required (letters, digits, . _ -), got '${spec.replace(/=.*/, '=…')}'`);
  if (fields.type === 'env' || (fields.env !== undefined && src === undefined)) return { id, env: fields.env ?? src ?? id };
  if (src === undefined) return { id, env: id };
  return { id, src };
}

/** Reads and remembers the values of secrets so that they can be redacted. */
export function rememberSecretValues(secrets) {
  for (const secret of secrets) {
    if (secret.env !== undefined) rememberSecret(process.env[secret.env]);
    else {
      try {
        if (statSync(secret.src).size <= 4096) rememberSecret(readFileSync(secret.src, 'utf8').trim());
      } catch {
        /* a missing file is reported by the caller */
      }
    }
  }
}

/** Replaces known secret values and common credential shapes with '***'. */
export function redact(text) {
  let out = String(text);
  for (const value of knownValues) out = out.split(value).join('***');
  return out.replace(/(_authToken=)[^\s"']+/g, '$1***').replace(/(authorization:\s*(?:bearer|basic)\s+)[^\s"']+/gi, '$1***');
}
