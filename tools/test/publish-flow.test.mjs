// The publish flow's rules without Docker: tagging (and, through image-record, signing and attesting) needs a passing
// scan of exactly the pushed digest on every platform; the multi-platform index names each platform's manifest.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { recordPath, unscannedReason } from '../lib/build-record.mjs';
import { MEDIA_TYPES, imageIndex, parseImageRef, sha256 } from '../lib/registry.mjs';
import { parsePlatforms } from '../push.mjs';
import { defaultPlatforms } from '../pipeline.mjs';
import { record } from './support/build-records.mjs';
import { runTool } from './support/run-tool.mjs';

const D = (n) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const pushed = () =>
  record('catalog', D(1), {
    platforms: { 'linux/amd64': { digest: D(2) }, 'linux/arm64': { digest: D(3) } },
    pushed: { image: 'r.example/acme/catalog', digest: D(1), tags: [] },
  });
const passing = () => ({
  ...pushed(),
  scan: { digest: D(1), passed: true, platforms: { 'linux/amd64': { digest: D(2), passed: true }, 'linux/arm64': { digest: D(3), passed: true } } },
});

describe('a digest may be tagged, signed and attested only after a passing scan of that digest', () => {
  test('a passing scan of the pushed digest on every platform: allowed', () => {
    assert.equal(unscannedReason(passing()), null);
  });
  for (const [name, change, message] of [
    ['not pushed', (r) => delete r.digest, /not pushed by digest/],
    ['never scanned', (r) => delete r.scan, /has no scan record/],
    ['scanned another digest', (r) => (r.scan.digest = D(9)), /scan record is for/],
    ['a platform not scanned', (r) => delete r.scan.platforms['linux/arm64'], /linux\/arm64 .* was not scanned/],
    ['a platform scanned as another digest', (r) => (r.scan.platforms['linux/amd64'].digest = D(8)), /linux\/amd64 was scanned as/],
    ['failed', (r) => ((r.scan.passed = false), (r.scan.summary = 'linux/arm64: findings')), /did not pass its scan \(linux\/arm64: findings\)/],
  ]) {
    test(`refused: ${name}`, () => {
      const record = passing();
      change(record);
      assert.match(unscannedReason(record), message);
    });
  }
});

describe('tag CLI', () => {
  const project = `tag-test-${process.pid}`;
  after(() => rmSync(recordPath(project), { force: true }));
  test('refuses an unscanned digest in one line, before any registry call', () => {
    mkdirSync(path.dirname(recordPath(project)), { recursive: true });
    writeFileSync(recordPath(project), JSON.stringify({ ...pushed(), project, pushed: { ...pushed().pushed, image: '127.0.0.1:1/nothing' } }));
    const r = runTool('tools/tag.mjs', [project, '--tags', 'type=raw,value=x']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^tag: error: not tagging: .* has no scan record/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});

describe('registry helpers', () => {
  test('the index of Docker manifests is a Docker manifest list naming each platform; its digest is of its bytes', () => {
    const index = imageIndex([
      { platform: 'linux/amd64', digest: D(2), mediaType: MEDIA_TYPES.dockerManifest, size: 10 },
      { platform: 'linux/arm64/v8', digest: D(3), mediaType: MEDIA_TYPES.dockerManifest, size: 11 },
    ]);
    assert.equal(index.mediaType, MEDIA_TYPES.dockerList);
    assert.equal(index.digest, sha256(index.bytes));
    assert.deepEqual(
      index.json.manifests.map((m) => [m.digest, m.platform]),
      [
        [D(2), { architecture: 'amd64', os: 'linux' }],
        [D(3), { architecture: 'arm64', os: 'linux', variant: 'v8' }],
      ],
    );
    assert.equal(imageIndex([{ platform: 'linux/amd64', digest: D(2), mediaType: MEDIA_TYPES.ociManifest, size: 1 }]).mediaType, MEDIA_TYPES.ociIndex);
  });
  test('image references need a registry host; tags and digests are told apart', () => {
    assert.deepEqual(parseImageRef('127.0.0.1:5000/acme/shop/catalog:pr-1'), { host: '127.0.0.1:5000', repository: 'acme/shop/catalog', reference: 'pr-1' });
    assert.equal(parseImageRef(`ghcr.io/acme/x@${D(4)}`).reference, D(4));
    assert.throws(() => parseImageRef('catalog:local'), /not an image reference with a registry host/);
  });
  test('platforms: os/arch lists, both release platforms in Actions, this machine elsewhere', () => {
    assert.deepEqual(parsePlatforms('linux/amd64, linux/arm64,linux/amd64'), ['linux/amd64', 'linux/arm64']);
    assert.throws(() => parsePlatforms('amd64'), /invalid platform 'amd64'/);
    assert.deepEqual(defaultPlatforms({ GITHUB_ACTIONS: 'true' }), ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(defaultPlatforms({}, 'arm64'), ['linux/arm64']);
  });
});
