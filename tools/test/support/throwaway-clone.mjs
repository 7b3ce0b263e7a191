// A throwaway git clone of this workspace's HEAD for the e2e tests that change the workspace itself (the service
// generator, a port edit): node_modules symlinked from the checkout (same lockfile, no npm ci), git identity set, and
// an environment with nothing inherited that could change the answers (./clean-env.mjs). Nx's cache is the checkout's
// own, so untouched projects are replayed: Nx (23) keeps one cache per user for every checkout of a repository
// (~/.nx/<id>, the id derived from the origin remote or, without one, the first commit), so the clone gets the
// checkout's origin URL and no NX_CACHE_DIRECTORY (setting it would give the clone a cache of its own). That cache
// outlives the run: a test that needs a task to really run gives it inputs no earlier run had. `nxCacheDirectory` is
// Nx's own answer, for the tests to check that the cache is shared.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { cleanEnv } from './clean-env.mjs';
import { gitIn, runAsync } from './run-tool.mjs';
import { linkDependencies } from './workspace-copy.mjs';

/**
 * @param {string} prefix  the temp directory's name prefix
 * @param {{ bases?: boolean }} [options]  bases: copy dist/docker/bases.json (the offline base images) for image builds
 * @returns {{ dir: string, git: (...args: string[]) => string, run: Function, remove: () => void }}
 *   run(cmd, args, extraEnv) resolves to the combined output and fails the test with its tail when it exits non-zero;
 *   runAsync-style results come from `attempt` (same arguments, never fails).
 */
export function throwawayClone(prefix, { bases = false } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  gitIn(workspaceRoot, cleanEnv())('clone', '-q', '--no-hardlinks', workspaceRoot, dir);
  const git = gitIn(dir, cleanEnv());
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', prefix);
  git('config', 'commit.gpgsign', 'false');
  // the same origin as the checkout (or none), so Nx derives the same workspace id and shares its cache
  const here = gitIn(workspaceRoot, cleanEnv());
  if (here('remote').split('\n').includes('origin')) git('remote', 'set-url', 'origin', here('remote', 'get-url', 'origin'));
  else git('remote', 'remove', 'origin');
  linkDependencies(dir, { bases });
  appendFileSync(path.join(dir, '.git', 'info', 'exclude'), '/node_modules\n/.nx/\n');
  const attempt = (cmd, args, extra = {}) => runAsync(cmd, args, { cwd: dir, env: cleanEnv(extra), timeout: '2700s' });
  const run = async (cmd, args, extra = {}) => {
    const r = await attempt(cmd, args, extra);
    const output = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${output.split('\n').slice(-40).join('\n')}`);
    return output;
  };
  return { dir, git, run, attempt, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Where Nx keeps the task cache of the checkout at `dir` (Nx's own answer, in a process rooted there). */
export async function nxCacheDirectory(dir) {
  const script = "process.stdout.write(require('nx/src/utils/cache-directory').cacheDir)";
  const result = await runAsync(process.execPath, ['-e', script], { cwd: dir, env: cleanEnv() });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}
