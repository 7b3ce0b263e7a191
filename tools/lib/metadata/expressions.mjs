// Handlebars-like `{{...}}` expressions of docker/metadata-action: variables ({{branch}}, {{version}}, ...) and the
// helpers {{date 'FORMAT' tz='Zone'}} / {{commit_date 'FORMAT'}}. An unknown expression is an error (the action
// renders it empty), so typos never silently change a tag. So is an unquoted format such as {{date YYYY-MM-DD}}: to
// the action's Handlebars an unquoted word is a variable, not text, so the tag would silently not carry the format
// asked for; here the format must be quoted (a documented strict-input difference, tools/README.md).
import { CliError } from '../errors.mjs';

const TOKEN = /\s*(?:([A-Za-z_][\w-]*)=)?(?:'([^']*)'|"([^"]*)"|([^\s'"=]+))/y;

function parseCall(body, template) {
  const args = [];
  const quoted = [];
  const hash = {};
  TOKEN.lastIndex = 0;
  let name = null;
  while (TOKEN.lastIndex < body.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(body);
    if (!m || m.index !== start) {
      if (body.slice(start).trim() === '') break;
      throw new CliError(`malformed expression {{${body}}} in "${template}"`);
    }
    const value = m[2] ?? m[3] ?? m[4];
    if (name === null) {
      if (m[1] !== undefined || m[4] === undefined) throw new CliError(`malformed expression {{${body}}} in "${template}"`);
      name = value;
    } else if (m[1] !== undefined) {
      hash[m[1]] = value;
    } else {
      args.push(value);
      quoted.push(m[4] === undefined);
    }
  }
  if (name === null) throw new CliError(`empty expression {{}} in "${template}"`);
  return { name, args, quoted, hash };
}

/**
 * Renders `{{...}}` expressions of a template.
 * @param {string} template
 * @param {Record<string, (args: string[], hash: Record<string,string>, quoted: boolean[]) => string>} scope  expression
 *   name -> function; `quoted` tells for each argument whether it was written in quotes
 * @returns {string}
 */
export function renderTemplate(template, scope) {
  if (!template.includes('{{')) return template;
  return template.replace(/\{\{(.*?)\}\}/g, (_all, body) => {
    const { name, args, quoted, hash } = parseCall(body.trim(), template);
    const fn = Object.hasOwn(scope, name) ? scope[name] : undefined;
    if (typeof fn !== 'function') throw new CliError(`unknown expression {{${name}}} in "${template}"`);
    return String(fn(args, hash, quoted));
  });
}

const FORMAT_TOKEN = /\[([^\]]*)\]|YYYY|YY|MM|M|DD|D|HH|H|mm|m|ss|s|SSS|Z/g;

function zonedParts(date, timeZone) {
  let fmt;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new CliError(`unknown time zone tz='${timeZone}'`);
  }
  const parts = Object.fromEntries(fmt.formatToParts(date).map((p) => [p.type, p.value]));
  const num = (k) => Number.parseInt(parts[k], 10);
  const p = {
    year: num('year'),
    month: num('month'),
    day: num('day'),
    hour: num('hour') % 24,
    minute: num('minute'),
    second: num('second'),
    ms: date.getUTCMilliseconds(),
  };
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms);
  p.offsetMinutes = Math.round((asUtc - date.getTime()) / 60000);
  return p;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/**
 * Formats a date with the moment.js tokens YYYY YY MM M DD D HH H mm m ss s SSS Z and [literal] text
 * (other characters are copied as they are). Time zone default UTC.
 */
export function formatDate(date, format, timeZone = 'UTC') {
  if (typeof format !== 'string') throw new CliError("date expression needs a format, e.g. {{date 'YYYYMMDD'}}");
  if (Number.isNaN(date.getTime())) throw new CliError('invalid date');
  const p = zonedParts(date, timeZone);
  return format.replace(FORMAT_TOKEN, (token, literal) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case 'YYYY':
        return pad(p.year, 4);
      case 'YY':
        return pad(p.year % 100);
      case 'MM':
        return pad(p.month);
      case 'M':
        return String(p.month);
      case 'DD':
        return pad(p.day);
      case 'D':
        return String(p.day);
      case 'HH':
        return pad(p.hour);
      case 'H':
        return String(p.hour);
      case 'mm':
        return pad(p.minute);
      case 'm':
        return String(p.minute);
      case 'ss':
        return pad(p.second);
      case 's':
        return String(p.second);
      case 'SSS':
        return pad(p.ms, 3);
      default: {
        const sign = p.offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(p.offsetMinutes);
        return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
      }
    }
  });
}

/** A date helper for the scope: {{date 'FORMAT' tz='Zone'}}. */
export function dateHelper(getDate, name = 'date') {
  return (args, hash, quoted = []) => {
    for (const key of Object.keys(hash)) {
      if (key !== 'tz') throw new CliError(`unknown attribute ${key}= in {{${name}}}`);
    }
    if (args.length !== 1) throw new CliError(`{{${name}}} takes one format argument, e.g. {{${name} 'YYYYMMDD'}}`);
    if (quoted[0] === false)
      throw new CliError(
        `{{${name} ${args[0]}}}: quote the format, e.g. {{${name} '${args[0]}'}} (docker/metadata-action reads an unquoted word as a variable, not a format)`,
      );
    return formatDate(getDate(), args[0], hash.tz ?? 'UTC');
  };
}
