// The one Node.js version of the workspace: `.node-version` at the repository root (read by setup-node's
// node-version-file in the workflows, passed by tools/docker-build.mjs to both Dockerfiles as NODE_VERSION, used by
// tools/bases.mjs for the offline stand-ins and by the esbuild target). It is an exact version, so images are
// reproducible and the staleness check knows what ships. Parsed in node-version.cjs (shared with the Nx plugin).
import path from 'node:path';
import nodeVersionModule from './node-version.cjs';
import { fail } from './errors.mjs';
import { workspaceRoot } from './workspace.mjs';

const { readNodeVersion, esbuildTargetOf, NodeVersionError, NODE_VERSION_FILE } = nodeVersionModule;
export const { nodeVersionFileIn } = nodeVersionModule;

export const nodeVersionFile = NODE_VERSION_FILE;

/** The exact Node.js version (major.minor.patch) from `.node-version`; a one-line error when it is missing or not exact. */
export function nodeVersion(file = nodeVersionFile) {
  try {
    return readNodeVersion(file, path.relative(workspaceRoot, file) || file);
  } catch (error) {
    if (error instanceof NodeVersionError) fail(error.message);
    throw error;
  }
}

/** esbuild's target for that version's major line (`node24`). */
export const esbuildTarget = (version = nodeVersion()) => esbuildTargetOf(version);
