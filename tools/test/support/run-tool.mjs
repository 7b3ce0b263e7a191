// Runs a command the way the tests look at it: synchronously, through zx (tools/lib/process.mjs: quiet, each
// interpolated argument quoted), whatever its exit code, as { status, signal, stdout, stderr }, the fields the
// tests read from a spawnSync result before. One helper instead of a spawnSync wrapper in every test file.
import assert from 'node:assert/strict';
import path from 'node:path';
import { $, lastLine } from '../../lib/process.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';

/**
 * Runs `command args...` and waits for it (no timeout: zx's `$.sync` has none; use `$({ timeout })` for a deadline).
 * @param {string} command
 * @param {string[]} [args]
 * @param {{ cwd?: string, env?: Record<string,string|undefined>, input?: string }} [options]  env replaces the
 *   whole environment (default: this process's); cwd defaults to the workspace root
 * @returns {{ status: number|null, signal: string|null, stdout: string, stderr: string }}
 */
export function run(command, args = [], { cwd = workspaceRoot, env = process.env, input } = {}) {
  return result($.sync(zxOptions({ cwd, env, input }))`${command} ${args}`);
}

/**
 * `run` without blocking this process: for a command that talks to a server the test itself serves. `timeout`
 * (e.g. '60s') stops it with SIGTERM.
 * @returns {Promise<{ status: number|null, signal: string|null, stdout: string, stderr: string }>}
 */
export async function runAsync(command, args = [], { cwd = workspaceRoot, env = process.env, input, timeout } = {}) {
  return result(await $({ ...zxOptions({ cwd, env, input }), ...(timeout ? { timeout } : {}) })`${command} ${args}`);
}

// (a minimal `env` is safe: tools/lib/process.mjs adds SHLVL, so zx's bash never sources ~/.bashrc)
const zxOptions = ({ cwd, env, input }) => ({ nothrow: true, cwd, env, input });
const result = (output) => ({ status: output.exitCode, signal: output.signal, stdout: output.stdout, stderr: output.stderr });

/** Runs a Node script of the workspace (e.g. 'tools/scan.mjs') with this Node, as `run` does. */
export const runTool = (script, args = [], options = {}) => run(process.execPath, [script, ...args], options);

/** `runTool` without blocking this process (see runAsync). */
export const runToolAsync = (script, args = [], options = {}) => runAsync(process.execPath, [script, ...args], options);

/**
 * A `git` for one repository: `(...args) => trimmed stdout`; a failing command throws one line naming it.
 * @param {string} cwd
 * @param {Record<string,string|undefined>} [env]
 */
export function gitIn(cwd, env = process.env) {
  return (...args) => {
    const result = run('git', args, { cwd, env });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed (exit ${result.status}): ${result.stderr.trim().split('\n').pop()}`);
    return result.stdout.trim();
  };
}

/**
 * Builds an image through tools/docker-build.mjs (`args`: project and flags), without blocking this process; its
 * BuildKit log is captured, not echoed. Throws one line (`<what> failed (exit N): <its last line>`) when it fails.
 */
export async function dockerBuild(args, { what = `docker-build ${args.join(' ')}`, env } = {}) {
  const result = await runToolAsync(path.join(workspaceRoot, 'tools/docker-build.mjs'), args, { env });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}): ${lastLine(result)}`);
  return result;
}

/**
 * Asserts that a tool stopped the way every tool stops on an error: exit `code`, nothing on stdout, and ONE line on
 * stderr, `<tool>: error: ...`, that matches `message`. `result` is what run/runTool returned.
 */
export function assertOneLineError(result, { tool, code = 2, message, what = '' }) {
  assert.equal(result.status, code, `${what}: ${result.stderr}`);
  assert.equal(result.stdout, '', what);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], new RegExp(`^${tool}: error: `));
  assert.match(lines[0], message);
}
