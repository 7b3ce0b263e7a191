// verify-rebuild without an engine: bad input is one line, and the diff names exactly what differs between two
// layers (content, mode, mtime, a missing path) and between two configs (the first differing layer, labels, history).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { c as createTar } from 'tar';
import { gzipSync } from 'node:zlib';
import { describeDifferences, diffConfigs, diffEntries, firstDifferingLayer, layerEntries } from '../lib/rebuild/layers.mjs';
import { debianPackages } from '../lib/rebuild/images.mjs';
import { debianSnapshotId } from '../lib/reproducible.mjs';
import { assertOneLineError, runTool } from './support/run-tool.mjs';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'verify-rebuild-unit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A layer tarball of `files` ({path: {content, mode?, mtime?}}), gzip-compressed like a registry blob. */
async function layer(name, files) {
  const root = path.join(scratch, name);
  for (const [file, { content, mode = 0o644, mtime = 1_700_000_000 }] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
    chmodSync(path.join(root, file), mode);
    utimesSync(path.join(root, file), mtime, mtime);
  }
  const out = path.join(scratch, `${name}.tar`);
  await createTar({ file: out, cwd: root, portable: true }, Object.keys(files));
  return gzipSync(readFileSync(out));
}

test('bad references: one line, exit 2, before any engine is needed', () => {
  for (const [args, message] of [
    [[], /usage: node tools\/verify-rebuild\.mjs/],
    [['ghcr.io/acme/shop/catalog:edge'], /is not <registry>\/<name>@sha256:<64 hex>/],
    [['catalog@sha256:abc'], /is not <registry>\/<name>@sha256:<64 hex>/],
    [[`ghcr.io/acme/shop/catalog@sha256:${'a'.repeat(64)}`, '--debian-snapshot', 'yesterday'], /--debian-snapshot 'yesterday' is not YYYYMMDDTHHMMSSZ/],
    [['--bogus'], /unknown flag --bogus/],
  ])
    assertOneLineError(runTool('tools/verify-rebuild.mjs', args), { tool: 'verify-rebuild', message, what: args.join(' ') });
});

test('layer diff: the differing paths with the field that differs, in path order', async () => {
  const published = await layerEntries(
    await layer('a', { 'app/main.js': { content: 'one' }, 'app/stamp': { content: '1' }, 'etc/passwd': { content: 'root' }, 'gone.txt': { content: 'x' } }),
  );
  const rebuilt = await layerEntries(
    await layer('b', {
      'app/main.js': { content: 'one' },
      'app/stamp': { content: '2' },
      'etc/passwd': { content: 'root', mode: 0o600, mtime: 1_800_000_000 },
    }),
  );
  const differences = diffEntries(published, rebuilt);
  assert.deepEqual(
    differences.map((d) => `${d.path} ${d.field}`),
    ['app/stamp sha256', 'etc/passwd mode', 'etc/passwd mtime', 'gone.txt present'],
  );
  const lines = describeDifferences({ configDifferences: [], layer: { index: 0, published: 'sha256:a', rebuilt: 'sha256:b' }, entryDifferences: differences });
  assert.equal(lines[0], '  layer 1 differs: published sha256:a, rebuilt sha256:b');
  assert.match(lines[1], /^ {4}app\/stamp: sha256 published [0-9a-f]{64}, rebuilt [0-9a-f]{64}$/);
  assert.equal(lines[2], '    etc/passwd: mode published 0644, rebuilt 0600');
});

test('config diff: labels and history entries that differ, and the first differing layer', () => {
  const a = { architecture: 'amd64', config: { Labels: { x: '1' } }, history: [{ created_by: 'COPY' }], rootfs: { diff_ids: ['sha256:1', 'sha256:2'] } };
  const b = { architecture: 'amd64', config: { Labels: { x: '2' } }, history: [{ created_by: 'COPY' }], rootfs: { diff_ids: ['sha256:1', 'sha256:3'] } };
  assert.deepEqual(
    diffConfigs(a, b).map((d) => d.field),
    ['config.Labels'],
  );
  assert.equal(firstDifferingLayer(a, b), 1);
  assert.equal(firstDifferingLayer(a, a), -1);
});

test("the Debian closure is read from the image's dpkg records, later layers winning", async () => {
  const status = (name, arch, version) => ({ content: `Package: ${name}\nArchitecture: ${arch}\nVersion: ${version}\nStatus: install ok installed\n` });
  const lower = await layer('dpkg1', {
    'var/lib/dpkg/status.d/libc6': status('libc6', 'arm64', '2.41-11'),
    'var/lib/dpkg/status.d/netbase': status('netbase', 'all', '6.5'),
  });
  const upper = await layer('dpkg2', { 'var/lib/dpkg/status.d/libc6': status('libc6', 'arm64', '2.41-12') });
  assert.deepEqual(await debianPackages([lower, upper]), ['libc6:arm64=2.41-12', 'netbase=6.5']);
});

test('the snapshot label is the newest Release date as snapshot.debian.org writes it', () => {
  assert.equal(
    debianSnapshotId(['trixie Sat, 09 Aug 2025 09:05:12 UTC', 'trixie-updates Fri, 05 Dec 2026 08:12:34 UTC', 'trixie-security Thu, 04 Dec 2026 20:00:00 UTC']),
    '20261205T081234Z',
  );
  assert.equal(debianSnapshotId([]), undefined);
});
