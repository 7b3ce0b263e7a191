// Parsers for the four list inputs: tags (rules), flavor, images, labels.
import { CliError } from '../errors.mjs';
import { csvFields, splitKeyValue } from './lists.mjs';

export const DEFAULT_PRIORITY = Object.freeze({ schedule: 1000, semver: 900, pep440: 900, match: 800, edge: 700, ref: 600, raw: 200, sha: 100 });
export const DEFAULT_TAG_RULES = Object.freeze(['type=schedule', 'type=ref,event=branch', 'type=ref,event=tag', 'type=ref,event=pr']);

const COMMON_ATTRS = ['type', 'enable', 'priority', 'prefix', 'suffix'];
const TYPE_ATTRS = {
  schedule: ['pattern'],
  semver: ['pattern', 'value', 'match'],
  pep440: ['pattern', 'value', 'match'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format'],
};

/** A `match`/`pattern` regular expression: `/source/flags` or a plain source. */
export function compileRegex(pattern, where) {
  const literal = /^\/(.+)\/([a-z]*)$/.exec(pattern);
  try {
    return literal ? new RegExp(literal[1], literal[2]) : new RegExp(pattern);
  } catch {
    throw new CliError(`invalid regular expression "${pattern}" in ${where}`);
  }
}

/** Number of capture groups of a regular expression. */
const groupCount = (re) => new RegExp(`${re.source}|`, re.flags).exec('').length - 1;

/**
 * @typedef {{type: string, attrs: Record<string,string>, priority: number, entry: string}} TagRule
 * `attrs.prefix`/`attrs.suffix` are present only when the rule sets them (or has a default: sha- and pr-);
 * a flavor prefix/suffix applies only where the rule has none.
 */

/** Parses one tag rule (`type=semver,pattern={{version}}`, `type=raw,foo`, or a bare `foo`). @returns {TagRule} */
export function parseTagRule(entry) {
  const where = `tag rule "${entry}"`;
  const attrs = {};
  for (const field of csvFields(entry)) {
    let [key, value] = splitKeyValue(field, where);
    if (key === null) [key, value] = ['value', field];
    if (Object.hasOwn(attrs, key)) throw new CliError(`duplicate attribute "${key}" in ${where}`);
    attrs[key] = value;
  }
  const type = (attrs.type ?? 'raw').toLowerCase();
  if (!Object.hasOwn(TYPE_ATTRS, type)) {
    throw new CliError(`unknown tag rule type "${attrs.type}" in ${where} (expected ${Object.keys(TYPE_ATTRS).join(', ')})`);
  }
  delete attrs.type;
  const allowed = [...COMMON_ATTRS, ...TYPE_ATTRS[type]];
  for (const key of Object.keys(attrs)) {
    if (!allowed.includes(key)) throw new CliError(`unknown attribute "${key}" for type=${type} in ${where} (allowed: ${allowed.slice(1).join(', ')})`);
  }
  switch (type) {
    case 'schedule':
      attrs.pattern ??= 'nightly';
      break;
    case 'semver':
    case 'pep440':
      if (!attrs.pattern) throw new CliError(`missing pattern= in ${where}`);
      attrs.value ??= '';
      attrs.match ??= '';
      if (attrs.match) compileRegex(attrs.match, where);
      break;
    case 'match': {
      if (!attrs.pattern) throw new CliError(`missing pattern= in ${where}`);
      attrs.group ??= '0';
      if (!/^\d+$/.test(attrs.group)) throw new CliError(`group= must be a number in ${where}`);
      const groups = groupCount(compileRegex(attrs.pattern, where));
      if (Number(attrs.group) > groups) throw new CliError(`group=${attrs.group} but the pattern has ${groups} group(s) in ${where}`);
      attrs.value ??= '';
      break;
    }
    case 'edge':
      attrs.branch ??= '';
      break;
    case 'ref':
      if (!attrs.event) throw new CliError(`missing event= (branch, tag or pr) in ${where}`);
      if (!['branch', 'tag', 'pr'].includes(attrs.event)) throw new CliError(`event= must be branch, tag or pr in ${where}`);
      if (attrs.event === 'pr') attrs.prefix ??= 'pr-';
      break;
    case 'raw':
      if (attrs.value === undefined) throw new CliError(`missing value= in ${where}`);
      break;
    case 'sha':
      attrs.format ??= 'short';
      if (!['short', 'long'].includes(attrs.format)) throw new CliError(`format= must be short or long in ${where}`);
      attrs.prefix ??= 'sha-';
      break;
  }
  attrs.enable ??= 'true';
  let priority = DEFAULT_PRIORITY[type];
  if (attrs.priority !== undefined) {
    if (!/^-?\d+$/.test(attrs.priority)) throw new CliError(`priority= must be an integer in ${where}`);
    priority = Number.parseInt(attrs.priority, 10);
  }
  return { type, attrs, priority, entry };
}

/** Parses the tags input; no entries -> the action's default rules. Sorted by priority, highest first (stable). */
export function parseTagRules(entries) {
  const list = entries.length > 0 ? entries : DEFAULT_TAG_RULES;
  return list.map(parseTagRule).sort((a, b) => b.priority - a.priority);
}

/** @returns {{latest: 'auto'|'true'|'false', prefix: string, prefixOnLatest: boolean, suffix: string, suffixOnLatest: boolean}} */
export function parseFlavor(entries) {
  const flavor = { latest: 'auto', prefix: '', prefixOnLatest: false, suffix: '', suffixOnLatest: false };
  for (const entry of entries) {
    const where = `flavor entry "${entry}"`;
    let last = null;
    for (const field of csvFields(entry)) {
      const [key, value] = splitKeyValue(field, where);
      switch (key) {
        case 'latest':
          if (!['auto', 'true', 'false'].includes(value)) throw new CliError(`latest= must be auto, true or false in ${where}`);
          flavor.latest = value;
          break;
        case 'prefix':
        case 'suffix':
          flavor[key] = value;
          last = key;
          break;
        case 'onlatest':
          if (!['true', 'false'].includes(value)) throw new CliError(`onlatest= must be true or false in ${where}`);
          if (!last) throw new CliError(`onlatest= must follow prefix= or suffix= in ${where}`);
          flavor[`${last}OnLatest`] = value === 'true';
          break;
        case null:
          throw new CliError(`expected key=value, got "${field}" in ${where}`);
        default:
          throw new CliError(`unknown flavor "${key}" in ${where} (expected latest, prefix, suffix, onlatest)`);
      }
    }
  }
  return flavor;
}

/**
 * Parses the images input: `name/app`, `a/b,c/d` (comma list) or `name=ghcr.io/x/y,enable=false` (one per line).
 * @returns {{name: string, enable: string}[]} enable is still a template (rendered later)
 */
export function parseImages(entries) {
  const images = [];
  for (const entry of entries) {
    const where = `image entry "${entry}"`;
    const fields = csvFields(entry);
    if (fields.every((f) => !f.includes('='))) {
      for (const name of fields) images.push({ name, enable: 'true' });
      continue;
    }
    const image = { name: undefined, enable: 'true' };
    for (const field of fields) {
      const [key, value] = splitKeyValue(field, where);
      if (key === null || key === 'name') {
        if (image.name !== undefined) throw new CliError(`more than one image name in ${where}`);
        image.name = key === null ? field : value;
      } else if (key === 'enable') {
        image.enable = value;
      } else {
        throw new CliError(`unknown image attribute "${key}" in ${where} (expected name, enable)`);
      }
    }
    if (!image.name) throw new CliError(`empty image name in ${where}`);
    images.push(image);
  }
  return images;
}

/**
 * Parses custom labels, one `key=value` per line (values may contain commas and `=`). An entry without `=` is an
 * error: docker/metadata-action drops it without a word, so a mistyped label would silently go missing (a documented
 * strict-input difference, tools/README.md). @returns {[string,string][]}
 */
export function parseLabels(entries) {
  return entries.map((entry) => {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (eq < 0) throw new CliError(`invalid label "${entry}": no '=' (expected key=value; docker/metadata-action would drop it silently)`);
    if (key === '' || /\s/.test(key)) throw new CliError(`invalid label "${entry}" (expected key=value)`);
    return [key, entry.slice(eq + 1).trim()];
  });
}
