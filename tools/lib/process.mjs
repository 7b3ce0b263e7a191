// What the tools need around zx and zx does not do itself. Every tool runs its commands with zx's `$` (zx quotes each
// interpolated argument; `$({ nothrow: true })` where the exit code matters, `.pipe()` for pipelines, `retry`/`sleep`
// for polling, `$({ timeout })` for deadlines). Importing this module sets the defaults the tools share, once:
//   - quiet: a command's output is captured, and each tool prints what matters (a one-line error, a summary);
//     TOOLS_VERBOSE=1 makes zx echo every command and its output instead (for debugging a tool or a CI step);
//   - every line zx echoes passes through redact(), so a secret value remembered by lib/secrets.mjs never reaches a
//     terminal or a CI log.
// It also turns a failed command into the one line a tool prints (describeFailure) and streams a long step's output
// line by line with a prefix (streamLines), e.g. a Docker build's log while it runs.
import readline from 'node:readline';
import { $, log } from 'zx';
import { fail } from './errors.mjs';
import { redact } from './secrets.mjs';

export { $, ProcessOutput, retry, sleep, which } from 'zx';

$.verbose = process.env.TOOLS_VERBOSE === '1';
$.quiet = !$.verbose;
// zx runs each command with bash. A bash whose stdin is a socket (Node's pipes are) and whose environment has no
// SHLVL, or SHLVL 0, takes itself for a remote shell and sources ~/.bashrc, which may print or change PATH (seen: a
// pyenv set-up there). A stripped-down environment has none, and bash hands 0 to a command started as `( cmd & )`: such
// a command's commands get SHLVL 1, so they run the same whatever the caller's shell setup.
const withShellLevel = (options = {}) => {
  const env = options.env ?? process.env;
  return { ...options, env: Number(env.SHLVL) >= 1 ? env : { ...env, SHLVL: '1' } };
};
const { spawn, spawnSync } = $;
$.spawn = (command, args, options) => spawn(command, args, withShellLevel(options));
$.spawnSync = (command, args, options) => spawnSync(command, args, withShellLevel(options));
$.log = (entry) => {
  if (entry.kind === 'cmd') return log({ ...entry, cmd: redact(entry.cmd) });
  if (entry.kind === 'stdout' || entry.kind === 'stderr') return log({ ...entry, data: Buffer.from(redact(entry.data.toString())) });
  return log(entry);
};

/** The last non-empty line a failed command wrote (stderr first), redacted; '' when it wrote nothing. */
export function lastLine(output) {
  const text = output?.stderr?.trim() ? output.stderr : (output?.stdout ?? '');
  return redact(text.trim().split('\n').filter(Boolean).pop() ?? '').trim();
}

/** One line for a failed command: `<what> failed (exit N): <its last line>`. */
export function describeFailure(output, what = 'a command') {
  const status = output.signal ? `signal ${output.signal}` : `exit ${output.exitCode}`;
  const detail = lastLine(output);
  return `${what} failed (${status})${detail ? `: ${detail}` : ''}`;
}

/**
 * Awaits a command started with `$({ nothrow: true })` and returns its stdout; when it failed, the tool stops with
 * one line (`<what> failed (exit N): <its last line>`, exit 1).
 * @param {import('zx').ProcessPromise} command
 * @param {string} what  how the error names the command, e.g. 'git diff'
 */
export async function stdoutOf(command, what) {
  const output = await command;
  if (!output.ok) fail(describeFailure(output, what), 1);
  return output.stdout;
}

/**
 * Streams a running zx process's output as it comes, line by line: each line is redacted, prefixed and written to
 * the matching stream of this process, and handed to `onLine` (e.g. to count test results). The process keeps its
 * own captured copy (ProcessOutput.stdout/stderr/stdall), e.g. for a complete log file.
 * @param {import('zx').ProcessPromise} child
 * @param {{ prefix?: string, echo?: boolean, onLine?: (line: string, stream: 'stdout'|'stderr') => void }} [options]
 */
export function streamLines(child, { prefix = '', echo = true, onLine } = {}) {
  for (const [name, input, target] of [
    ['stdout', child.stdout, process.stdout],
    ['stderr', child.stderr, process.stderr],
  ]) {
    readline.createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
      onLine?.(line, name);
      if (echo) target.write(`${prefix}${redact(line)}\n`);
    });
  }
  return child;
}
