// CLI conventions shared by every tool: bad input or a failed step ends with ONE line on stderr and a non-zero exit.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
export class CliError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Stops the tool with a one-line error (exit 2 unless told otherwise). */
export function fail(message, exitCode = 2) {
  throw new CliError(message, exitCode);
}

/**
 * node:util parseArgs in strict mode; a bad flag becomes a one-line CliError (first sentence of Node's message, which
 * goes on with advice about '--'), followed by `hint` when given.
 */
export function parseCliArgs(config, { hint = '' } = {}) {
  try {
    return parseArgs({ strict: true, ...config });
  } catch (error) {
    fail(`${String(error.message).split('\n')[0].split('. ')[0].replace(/\.$/, '')}${hint}`);
  }
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
  return `${tool}: error: ${String(error?.message ?? error).split('\n')[0]}\n`;
}

/** Runs a tool's main function; any error becomes one line on stderr, never a stack trace. */
export function runMain(main, name = process.argv[1]?.split('/').pop()?.replace(/\.mjs$/, '') ?? 'tool') {
  Promise.resolve()
    .then(main)
    .catch((error) => {
      process.stderr.write(errorLine(name, error));
      process.exitCode = error instanceof CliError ? error.exitCode : error?.exitCode && error.exitCode !== 0 ? 1 : 1;
    });
}
