// The one Node.js version of the workspace: `.node-version` at the repository root (read by setup-node's
// node-version-file in the workflows, passed by tools/docker-build.mjs to both Dockerfiles as NODE_VERSION, used by
// tools/bases.mjs for the offline stand-ins and by the esbuild target). It is an exact version, so images are
// reproducible and the staleness check knows what ships.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fail } from './errors.mjs';
import { workspaceRoot } from './workspace.mjs';

export const nodeVersionFile = path.join(workspaceRoot, '.node-version');

/** The exact Node.js version (`24.22.3`) from `.node-version`; a one-line error when it is missing or not exact. */
export function nodeVersion(file = nodeVersionFile) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read the Node.js version from ${path.relative(workspaceRoot, file) || file}: ${error.code ?? error.message}`);
  }
  const version = text.trim().replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+$/.test(version))
    fail(`${path.relative(workspaceRoot, file) || file} must hold one exact Node.js version like 24.22.3, got '${text.trim().slice(0, 40)}'`);
  return version;
}

/** esbuild's target for that version's major line (`node24`). */
export const esbuildTarget = (version = nodeVersion()) => `node${version.split('.')[0]}`;
