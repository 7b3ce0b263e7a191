// The one error class of the tools: a message that is printed as ONE line, and the exit code that goes with it.
// Exit codes: 2 bad input (the default), 1 a step that failed; tools name their own others (scan: 3, 5).
// tools/lib/cli.mjs's runMain prints it; everything under tools/lib throws it, so a library error reads the same in
// every tool.
export class CliError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Stops the tool with a one-line error (exit 2 unless told otherwise). */
export function fail(message, exitCode = 2) {
  throw new CliError(message, exitCode);
}
