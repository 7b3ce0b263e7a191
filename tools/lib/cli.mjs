// CLI conventions shared by every tool: bad input or a failed step ends with ONE line on stderr and a non-zero exit.
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

/** Runs a tool's main function; any error becomes one line on stderr, never a stack trace. */
export function runMain(main, name = process.argv[1]?.split('/').pop()?.replace(/\.mjs$/, '') ?? 'tool') {
  Promise.resolve()
    .then(main)
    .catch((error) => {
      const message = String(error?.message ?? error).split('\n')[0];
      process.stderr.write(`${name}: error: ${message}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : error?.exitCode && error.exitCode !== 0 ? 1 : 1;
    });
}
