// A throwaway copy of what the generators read and write in this workspace (every project.json, the services' dev
// keys and compose files, the root compose.yaml, deploy/k8s, the prettier config) in a temp directory, opened as an
// Nx FsTree: as under `nx sync`/`nx g`, listChanges() is what differs from that copy, and formatFiles uses the
// repository's prettier config. Nothing below assumes the template's three services.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';

const require = createRequire(import.meta.url);
// Nx's own Tree over a directory (what `nx g` and `nx sync` hand a generator); not re-exported by @nx/devkit.
const { FsTree } = require('nx/src/generators/tree');

export const WORKSPACE = fileURLToPath(new URL('../../..', import.meta.url));

const SEEDED =
  /^(nx\.json|\.prettierrc|\.prettierignore|compose\.yaml|(apps|libs|docker)\/[^/]+\/project\.json|apps\/[^/]+\/(compose\.yaml|dev-secrets\/api-key)|deploy\/k8s\/(base|overlays)\/.*)$/;
// The working tree's files (committed or not, minus ignored and deleted ones), so the tests see what `nx sync` sees.
export const SEED = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: WORKSPACE, encoding: 'utf8' })
  .split('\n')
  .filter((file) => SEEDED.test(file) && existsSync(path.join(WORKSPACE, file)));

/** The text of a workspace file as it is on disk. */
export const committed = (file) => readFileSync(path.join(WORKSPACE, file), 'utf8');

const dirs = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

export function seededTree() {
  const dir = mkdtempSync(path.join(tmpdir(), 'nx-plugin-tree-'));
  dirs.push(dir);
  for (const file of SEED) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(WORKSPACE, file), path.join(dir, file));
  }
  return new FsTree(dir, false);
}
