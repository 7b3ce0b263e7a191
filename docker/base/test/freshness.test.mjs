// The built base images against the real Debian mirror (deb.debian.org: trixie, trixie-updates, trixie-security):
// every Debian package in them is at the mirror's current version, for each architecture. The Node.js half uses the
// release index fixture (NODE_RELEASE_INDEX): nodejs.org is not reachable from every CI machine. A counter-example
// proves the real mirror run can say "stale": the same records with base-files set back to 13.0.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { requireDocker } from '../../../tools/lib/docker-engine.mjs';
import { workspaceRoot } from '../../../tools/lib/workspace.mjs';
import { runToolAsync } from '../../../tools/test/support/run-tool.mjs';
import { FOREIGN } from './support/foreign-arch.mjs';

const env = { ...process.env, NODE_RELEASE_INDEX: path.join(workspaceRoot, 'tools/test/fixtures/node-release-index.json') };
const tool = path.join(workspaceRoot, 'tools/base-freshness.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'freshness-real-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function freshness(args) {
  const { status, stdout, stderr } = await runToolAsync(tool, args, { env });
  return { code: status, stdout, stderr };
}

describe('built base images on the real mirror', () => {
  for (const [name, record] of [
    ['native', 'base-image.json'],
    [FOREIGN.arch, `base-image.${FOREIGN.arch}.json`],
  ]) {
    test(`${name}: every Debian package at the mirror's current version (exit 0)`, async () => {
      await requireDocker();
      const { code, stdout, stderr } = await freshness(['--record', path.join(workspaceRoot, 'dist/docker', record)]);
      assert.equal(code, 0, `${stdout}${stderr}`);
      assert.match(stdout, /Debian trixie\/(amd64|arm64), \d+ packages/);
      assert.match(stdout, /freshness: fresh/);
    });
  }

  test('counter-example: an older base-files in the same records is reported stale by the real mirror (exit 10, stale)', async () => {
    const status = path.join(dir, 'status.d');
    cpSync(path.join(workspaceRoot, 'tools/test/fixtures/debian/status.d'), status, { recursive: true });
    const baseFiles = path.join(status, 'base-files');
    writeFileSync(baseFiles, readFileSync(baseFiles, 'utf8').replace(/^Version: .*$/m, 'Version: 13.0'));
    const { code, stdout } = await freshness(['--status-dir', status, '--node-version', '24.22.3']);
    assert.equal(code, 10, stdout);
    assert.match(stdout, /^stale: base-files 13\.0 is behind \S+ \(trixie(-updates|-security)?\)$/m);
  });
});
