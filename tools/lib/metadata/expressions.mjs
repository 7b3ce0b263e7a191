// The `{{...}}` expressions of docker/metadata-action, rendered by the libraries the action itself uses: Handlebars
// for the templates (variables such as {{branch}} or {{version}} are functions of the render context, as in the
// action) and moment-timezone for {{date 'FORMAT' tz='Zone'}} / {{commit_date 'FORMAT'}}.
//
// Before rendering, the template's Handlebars AST is checked, because the action goes on silently where a typo would
// change a tag: an unknown expression (the action renders it empty), a block or partial, and an unquoted format or
// zone such as {{date YYYY-MM-DD}} (to Handlebars an unquoted word is a variable, so the action's tag would not carry
// that format) are one-line errors here (documented strict-input differences, tools/README.md). Output is not
// HTML-escaped: the values are tags and labels, not HTML (the action escapes `&<>"'=` and backticks).
import Handlebars from 'handlebars';
import moment from 'moment-timezone';
import { CliError } from '../errors.mjs';

// An instance of our own, so nothing registered elsewhere in the process changes what a template means.
const handlebars = Handlebars.create();

/** Expressions that take a format argument and a `tz=` attribute, both quoted. */
const FORMAT_HELPER = Symbol('format helper');

/** The Handlebars message on one line, without the `--^` pointer line. */
const oneLine = (message) =>
  message
    .split('\n')
    .filter((line) => !/^-*\^$/.test(line))
    .join(' ');

function parse(template) {
  try {
    return handlebars.parse(template);
  } catch (error) {
    throw new CliError(`malformed expression in "${template}": ${oneLine(error.message)}`);
  }
}

/** What a parameter was written as, for messages: `'x'` for a quoted string, the word itself otherwise. */
const written = (node) => (node.type === 'StringLiteral' ? `'${node.value}'` : String(node.original ?? node.type));

function checkFormatHelper(name, node, template) {
  for (const param of node.params) {
    if (param.type === 'StringLiteral') continue;
    if (param.type === 'SubExpression') throw new CliError(`malformed expression {{${name} (...)}} in "${template}"`);
    const word = written(param);
    throw new CliError(
      `{{${name} ${word}}}: quote the format, e.g. {{${name} '${word}'}} (docker/metadata-action reads an unquoted word as a variable, not a format)`,
    );
  }
  for (const pair of node.hash?.pairs ?? []) {
    if (pair.value.type !== 'StringLiteral') {
      const word = written(pair.value);
      throw new CliError(`{{${name} ... ${pair.key}=${word}}}: quote the value, e.g. ${pair.key}='${word}' in "${template}"`);
    }
  }
}

/** Throws a one-line CliError for anything but text, comments and {{name ...}} of a name in `scope`. */
function check(ast, scope, template) {
  for (const node of ast.body) {
    if (node.type === 'ContentStatement' || node.type === 'CommentStatement') continue;
    if (node.type !== 'MustacheStatement' || node.path.type !== 'PathExpression') {
      const what = node.type.replace(/Statement$/, '').toLowerCase();
      throw new CliError(`malformed expression in "${template}": Handlebars ${what}s are not supported, only {{name}} and {{date 'FORMAT'}}`);
    }
    const { path } = node;
    if (path.data || path.depth !== 0 || path.parts.length !== 1) throw new CliError(`unknown expression {{${path.original}}} in "${template}"`);
    const name = path.parts[0];
    if (!Object.hasOwn(scope, name) || typeof scope[name] !== 'function') throw new CliError(`unknown expression {{${name}}} in "${template}"`);
    if (scope[name][FORMAT_HELPER]) checkFormatHelper(name, node, template);
    else if (node.params.some((p) => p.type === 'SubExpression')) throw new CliError(`malformed expression {{${name} (...)}} in "${template}"`);
  }
}

/**
 * Renders the `{{...}}` expressions of a template with Handlebars.
 * @param {string} template
 * @param {Record<string, (args: string[], hash: Record<string,string>) => string>} scope  expression name -> function
 * @returns {string}
 */
export function renderTemplate(template, scope) {
  if (!template.includes('{{')) return template;
  check(parse(template), scope, template);
  // As in the action, each expression is a function of the context; Handlebars passes its options object last.
  const context = {};
  for (const [name, fn] of Object.entries(scope)) {
    context[name] = (...params) => {
      const options = params.pop();
      return fn(params, options?.hash ?? {});
    };
  }
  return handlebars.compile(template, { noEscape: true })(context);
}

/** Whether a template is exactly one expression `{{name}}` (the action's test for a `{{raw}}` pattern). */
export function isSingleExpression(template, name) {
  try {
    const { body } = handlebars.parseWithoutProcessing(template);
    return body.length === 1 && body[0].type === 'MustacheStatement' && body[0].path.parts?.length === 1 && body[0].path.parts[0] === name;
  } catch {
    return false;
  }
}

/** Formats a date with a moment.js format string in a time zone (default UTC), as the action's {{date}} does. */
export function formatDate(date, format, timeZone = 'UTC') {
  if (typeof format !== 'string') throw new CliError("date expression needs a format, e.g. {{date 'YYYYMMDD'}}");
  if (Number.isNaN(date.getTime())) throw new CliError('invalid date');
  // moment-timezone falls back to UTC with a console warning for a zone it does not know; a typo must not do that.
  if (!moment.tz.zone(timeZone)) throw new CliError(`unknown time zone tz='${timeZone}'`);
  return moment(date).tz(timeZone).format(format);
}

/** A date expression for the scope: {{date 'FORMAT' tz='Zone'}} (or commit_date) over the date `getDate` returns. */
export function dateHelper(getDate, name = 'date') {
  const helper = (args, hash) => {
    for (const key of Object.keys(hash)) {
      if (key !== 'tz') throw new CliError(`unknown attribute ${key}= in {{${name}}}`);
    }
    if (args.length !== 1) throw new CliError(`{{${name}}} takes one format argument, e.g. {{${name} 'YYYYMMDD'}}`);
    return formatDate(getDate(), args[0], hash.tz ?? 'UTC');
  };
  helper[FORMAT_HELPER] = true;
  return helper;
}
