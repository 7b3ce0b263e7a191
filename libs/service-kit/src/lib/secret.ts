import { z } from 'zod';

/** Registry of config field schemas whose values are secret. */
export const secretFields = z.registry<{ secret: true }>();

/**
 * Marks a config field as secret: its value is redacted from /config, logs and
 * configuration error messages. Wrap the outermost schema of the field,
 * e.g. `secret(env.string().optional())`.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  secretFields.add(schema, { secret: true });
  return schema;
}

/** Field names that are treated as secret even when not marked (defence in depth). */
export const SECRET_NAME_PATTERN = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?|PRIVATE)(_|$)/i;

interface WrapperDef {
  innerType?: z.ZodType;
  in?: z.ZodType;
}

/** True when the schema, or a schema it wraps (optional/default/pipe), is marked secret. */
export function isSecretSchema(schema: z.ZodType | undefined): boolean {
  let current: z.ZodType | undefined = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    if (secretFields.has(current)) return true;
    const def = current._zod.def as WrapperDef;
    current = def.innerType ?? def.in;
  }
  return false;
}

/** Names of the secret fields of an object schema (marked with secret() or named like a secret). */
export function secretKeysOf(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([key, field]) => isSecretSchema(field as z.ZodType) || SECRET_NAME_PATTERN.test(key))
    .map(([key]) => key);
}
