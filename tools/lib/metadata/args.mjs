// Minimal flag parser for the tools' CLIs: `--name value`, `--name=value`, boolean `--flag`, repeatable flags.
// Anything unknown is a one-line usage error (exit 2).
import { MetadataError } from './errors.mjs';

/**
 * @param {string[]} argv
 * @param {Record<string, {type: 'string'|'boolean', multiple?: boolean}>} spec  keyed by flag name without dashes
 * @returns {Record<string, string|string[]|boolean>}
 */
export function parseFlags(argv, spec) {
  const values = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '-h') {
      values.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') throw new MetadataError(`unexpected argument "${arg}" (flags only; see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const def = spec[name];
    if (!def) throw new MetadataError(`unknown flag --${name} (see --help)`);
    let value;
    if (def.type === 'boolean') {
      if (eq >= 0) throw new MetadataError(`--${name} takes no value`);
      value = true;
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && Object.hasOwn(spec, next.slice(2).split('=')[0]))) {
        throw new MetadataError(`--${name} needs a value`);
      }
      value = next;
      i += 1;
    }
    if (def.multiple) (values[name] ??= []).push(value);
    else if (Object.hasOwn(values, name) && def.type !== 'boolean') throw new MetadataError(`--${name} given more than once`);
    else values[name] = value;
  }
  return values;
}
