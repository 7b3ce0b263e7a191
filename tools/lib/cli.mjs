// The one CLI convention of every tool: flags parsed by parseCliArgs, errors thrown as CliError (or with fail(), from
// lib/errors.mjs), and runMain() as the entry, which turns any error into ONE line on stderr and its exit code, never
// a stack trace.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CliError, fail } from './errors.mjs';
import { describeFailure, ProcessOutput } from './process.mjs';

export { CliError, fail } from './errors.mjs';

/** Node's parseArgs errors, in the tools' words. */
function flagError(error, hint) {
  const quoted = /'(-[^' ]+)/.exec(error.message)?.[1] ?? '';
  const flag = quoted.replace(/^-(\w)$/, '-$1');
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag}${hint}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${/'([^']*)'/.exec(error.message)?.[1] ?? ''}'${hint}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(error.message) ? `${flag} takes no value${hint}` : `${flag} needs a value${hint}`;
    default:
      return `${String(error.message).split('\n')[0].split('. ')[0].replace(/\.$/, '')}${hint}`;
  }
}

/**
 * The one flag parser: node:util parseArgs in strict mode (`--name value`, `--name=value`, booleans, `multiple`),
 * plus a single-valued flag given twice is an error instead of the last one silently winning. Every problem is one
 * CliError line, followed by `hint` when given (e.g. ' (see --help)').
 * @param {import('node:util').ParseArgsConfig} config
 * @param {{ hint?: string }} [options]
 */
export function parseCliArgs(config, { hint = '' } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ strict: true, ...config, tokens: true });
  } catch (error) {
    fail(flagError(error, hint));
  }
  const seen = new Set();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option' || config.options?.[token.name]?.multiple) continue;
    if (seen.has(token.name)) fail(`--${token.name} given more than once${hint}`);
    seen.add(token.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** The one project-name argument most tools take: a CliError unless exactly one valid Nx project name was given. */
export function projectArgument(positionals, example) {
  if (positionals.length !== 1) fail(`expected exactly one project name, e.g. ${example}`);
  const [project] = positionals;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(project)) fail(`invalid project name '${project}'`);
  return project;
}

/** True when the module at `moduleUrl` is the script node was started with (also through a symlink). */
export function isMain(moduleUrl) {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** The one line a tool prints for an error: `<tool>: error: <first line of the message>`. */
export function errorLine(tool, error) {
  const message = error instanceof ProcessOutput ? describeFailure(error) : String(error?.message ?? error);
  return `${tool}: error: ${message.split('\n')[0]}\n`;
}

/** The exit code for an error: a CliError's own, 1 for anything else. */
export const exitCodeOf = (error) => (error instanceof CliError ? error.exitCode : 1);

/**
 * The entry of every tool: runs `main` (sync or async); a number it returns is the exit code; any error becomes one
 * line on stderr and its exit code. Resolves when done (tests may await it).
 */
export function runMain(
  main,
  name = process.argv[1]
    ?.split('/')
    .pop()
    ?.replace(/\.mjs$/, '') ?? 'tool',
) {
  return Promise.resolve()
    .then(main)
    .then(
      (result) => {
        if (typeof result === 'number') process.exitCode = result;
      },
      (error) => {
        process.stderr.write(errorLine(name, error));
        process.exitCode = exitCodeOf(error);
      },
    );
}
