'use strict';
// The one parser of `.node-version` (the workspace's exact Node.js version): CommonJS so that the Nx plugin (its
// esbuild target) and the ES-module tools (tools/lib/node-version.mjs: docker-build, bases, the image tests) share it.
const { readFileSync } = require('node:fs');
const path = require('node:path');

class NodeVersionError extends Error {}

const NODE_VERSION_FILE = path.join(__dirname, '..', '..', '.node-version');

/** The exact version (major.minor.patch) in `file`; a NodeVersionError line when it is missing or not exact. */
function readNodeVersion(file = NODE_VERSION_FILE, shown = path.basename(file)) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new NodeVersionError(`cannot read the Node.js version from ${shown}: ${error.code ?? error.message}`);
  }
  const version = text.trim().replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new NodeVersionError(`${shown} must hold one exact Node.js version (major.minor.patch), got '${text.trim().slice(0, 40)}'`);
  return version;
}

/** The version file of another checkout (verify-rebuild reads the commit it rebuilds). */
const nodeVersionFileIn = (dir) => path.join(dir, path.basename(NODE_VERSION_FILE));

/** esbuild's target for a version's major line (`node24`). */
const esbuildTargetOf = (version) => `node${version.split('.')[0]}`;

module.exports = { readNodeVersion, esbuildTargetOf, nodeVersionFileIn, NodeVersionError, NODE_VERSION_FILE };
