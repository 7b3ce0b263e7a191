// Runs a command (no shell) through zx and returns its exit code and output; throws one readable error on failure.
import { $ } from 'zx';

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, reject?: boolean, stdio?: 'inherit'|'pipe', input?: string }} [options]
 * @returns {Promise<{ exitCode: number, stdout: string, stderr: string }>}
 */
export async function execa(cmd, args, { env, cwd, reject = true, stdio = 'pipe', input } = {}) {
  const output = await $({
    env: env ?? process.env,
    cwd,
    input,
    quiet: true,
    verbose: false,
    nothrow: true,
    stdio: stdio === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['pipe', 'pipe', 'pipe'],
  })`${cmd} ${args}`;
  const result = { exitCode: output.exitCode ?? 1, stdout: output.stdout ?? '', stderr: output.stderr ?? '' };
  if (reject && result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    const error = new Error(`${[cmd, ...args.slice(0, 2)].join(' ')} failed (exit ${result.exitCode})${detail ? `: ${detail}` : ''}`);
    error.exitCode = result.exitCode;
    error.result = result;
    throw error;
  }
  return result;
}
