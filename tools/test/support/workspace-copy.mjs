// A copy of this workspace's working tree (tracked and untracked files, nothing ignored) in a fresh Git repository of
// one commit, for tests that must build, record and tag without touching this checkout's dist/docker records or
// image tags, or that run beside other tests doing so. node_modules is linked, not copied (same lockfile), and the
// offline base stand-ins' record (dist/docker/bases.json, written by tools/bases.mjs) is carried over, so the copy
// builds FROM the stand-ins this machine already has.
import { appendFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { gitIn } from './run-tool.mjs';

const IDENTITY = [
  ['user.name', 'workspace copy'],
  ['user.email', 'workspace-copy@example.invalid'],
  ['commit.gpgsign', 'false'],
];

/**
 * Makes another checkout of this workspace (`dir`) runnable without an install: node_modules linked (same lockfile)
 * and, unless `bases` is false, the offline base stand-ins' record copied, so its builds use this machine's stand-ins.
 */
export function linkDependencies(dir, { bases = true } = {}) {
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const record = path.join(workspaceRoot, 'dist/docker/bases.json');
  if (bases && existsSync(record)) {
    mkdirSync(path.join(dir, 'dist/docker'), { recursive: true });
    cpSync(record, path.join(dir, 'dist/docker/bases.json'));
  }
}

/**
 * @param {string} prefix  the temporary directory's name prefix (e.g. 'rehearsal-ws-')
 * @param {{ branch?: string, message?: string }} [options]
 * @returns {{ dir: string, git: (...args: string[]) => string }}  the copy and a `git` for it
 */
export function copyWorkspace(prefix, { branch = 'main', message = 'workspace copy' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const listed = gitIn(workspaceRoot)('ls-files', '-co', '--exclude-standard', '-z').split('\0').filter(Boolean);
  for (const file of listed) {
    const source = path.join(workspaceRoot, file);
    // a file deleted but not yet staged is still listed; a submodule-like directory is not ours to copy
    if (!existsSync(source) || lstatSync(source).isDirectory()) continue;
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(source, path.join(dir, file));
  }
  linkDependencies(dir);
  const git = gitIn(dir);
  git('init', '-q', '-b', branch);
  appendFileSync(path.join(dir, '.git/info/exclude'), 'node_modules\n');
  for (const [key, value] of IDENTITY) git('config', key, value);
  git('add', '-A');
  git('commit', '-q', '-m', message);
  return { dir, git };
}
