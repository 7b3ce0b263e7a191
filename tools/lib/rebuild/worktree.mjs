// A throwaway checkout of one commit to rebuild from: `git worktree add --detach` in a temporary directory (another
// path than the original build's, on purpose), with its own node_modules and the offline base stand-ins this
// workspace recorded, then its build output made with the commit's own Nx targets.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail } from '../errors.mjs';
import { $, lastLine, streamLines } from '../process.mjs';
import { workspaceRoot } from '../workspace.mjs';

/** The full commit id of `revision` in this repository, or one line (exit 1) when it is not there. */
export async function resolveCommit(revision) {
  if (!/^[0-9a-f]{7,64}$/.test(revision ?? '')) fail(`the image names no commit (org.opencontainers.image.revision is '${revision ?? ''}')`, 1);
  const found = await $({ cwd: workspaceRoot, nothrow: true })`git rev-parse --verify --quiet ${`${revision}^{commit}`}`;
  if (!found.ok) fail(`commit ${revision} is not in this repository (git fetch it first)`, 1);
  return found.stdout.trim();
}

/**
 * node_modules for the checkout: a hard-linked copy of this workspace's when the commit's lockfile is byte-identical
 * (npm ci would install exactly that; linking saves minutes), else `npm ci`. Either way the tree is the checkout's own,
 * so bundler paths are the checkout's.
 */
async function installDependencies(dir, commit) {
  const lock = await $({ cwd: workspaceRoot, nothrow: true })`git show ${`${commit}:package-lock.json`}`;
  const ours = path.join(workspaceRoot, 'package-lock.json');
  const modules = path.join(workspaceRoot, 'node_modules');
  if (lock.ok && existsSync(modules) && existsSync(ours) && lock.stdout === readFileSync(ours, 'utf8')) {
    const linked = await $({ nothrow: true })`cp -al ${modules} ${path.join(dir, 'node_modules')}`;
    if (linked.ok) {
      rmSync(path.join(dir, 'node_modules/.cache'), { recursive: true, force: true });
      return 'linked';
    }
    rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
  }
  const installed = await streamLines($({ cwd: dir, nothrow: true })`npm ci --ignore-scripts --no-audit --no-fund --loglevel=error`, { prefix: '[npm ci] ' });
  if (!installed.ok) fail(`npm ci in the checkout of ${commit.slice(0, 12)} failed: ${lastLine(installed)}`, 1);
  return 'installed';
}

/** Checks out `commit` into a new temporary directory, ready to build images from. */
export async function checkout(commit, { parent = os.tmpdir() } = {}) {
  const root = mkdtempSync(path.join(parent, 'verify-rebuild-'));
  const dir = path.join(root, commit.slice(0, 12));
  const added = await $({ cwd: workspaceRoot, nothrow: true })`git worktree add --detach ${dir} ${commit}`;
  if (!added.ok) fail(`git worktree add ${commit.slice(0, 12)} failed: ${lastLine(added)}`, 1);
  const remove = async () => {
    await $({ cwd: workspaceRoot, nothrow: true })`git worktree remove --force ${dir}`;
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await installDependencies(dir, commit);
    // the upstream images' offline stand-ins (dist/docker/bases.json) are this machine's, not the commit's
    const bases = path.join(workspaceRoot, 'dist/docker/bases.json');
    if (existsSync(bases)) {
      mkdirSync(path.join(dir, 'dist/docker'), { recursive: true });
      cpSync(bases, path.join(dir, 'dist/docker/bases.json'));
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}

/** Builds a service's artifact (dist/apps/<project>/main.js) in the checkout with the commit's own Nx target. */
export async function buildArtifact(dir, project) {
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_SKIP_NX_CACHE: 'true' };
  const built = await streamLines($({ cwd: dir, env, nothrow: true })`npx nx run ${`${project}:build`} --outputStyle=static --skip-nx-cache`, {
    prefix: `[nx ${project}] `,
  });
  if (!built.ok) fail(`building ${project} in the checkout failed: ${lastLine(built)}`, 1);
}
