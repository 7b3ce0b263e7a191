// tools/k8s-images.mjs: the production overlay's image override from build records. Its wiring in publish.yml is
// rehearsed in deploy/k8s/test/publish-rehearsal.test.mjs (the k8s project depends on tools, not the reverse).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { buildOverride, imageEntry, parseOverride } from '../lib/k8s-images.mjs';
import { listServices } from '../lib/services.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';
import { digestOf, record, writeRecord } from './support/build-records.mjs';
import { runTool } from './support/run-tool.mjs';

const TOOL = path.join(workspaceRoot, 'tools/k8s-images.mjs');
const COMMITTED = path.join(workspaceRoot, 'deploy/k8s/overlays/production/images/kustomization.yaml');
const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-images-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const runK8sImages = (args, env = {}) => runTool(TOOL, args, { env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env } });

describe('image entries from build records', () => {
  test('a pushed record: name as the bases use it, newName the repository, digest', () => {
    assert.deepEqual(imageEntry(record('catalog', digestOf('a')), 'catalog.json'), {
      name: 'secure-ci/catalog',
      newName: 'ghcr.io/acme/shop/catalog',
      digest: digestOf('a'),
    });
  });
  test("tools/push.mjs's `pushed` section wins over the build's own image and digest", () => {
    const pushed = record('orders', digestOf('a'), { pushed: { image: 'registry.local:5000/x/orders', tags: [], digest: digestOf('b') } });
    assert.deepEqual(imageEntry(pushed, 'orders.json'), { name: 'secure-ci/orders', newName: 'registry.local:5000/x/orders', digest: digestOf('b') });
  });
  test('refused: no digest, a malformed digest, a tagged or digested image, a bad project, not an object', () => {
    assert.throws(() => imageEntry(record('catalog'), 'dist/docker/catalog.json'), {
      message: 'dist/docker/catalog.json: catalog has no digest: it was never pushed, so it cannot be deployed by digest',
    });
    assert.throws(() => imageEntry(record('catalog', 'sha256:abc'), 'r'), /digest "sha256:abc" is not sha256:<64 hex>/);
    assert.throws(() => imageEntry(record('catalog', digestOf('a'), { image: 'ghcr.io/acme/shop/catalog:1.0' }), 'r'), /is not a registry repository/);
    assert.throws(
      () => imageEntry(record('catalog', digestOf('a'), { image: `ghcr.io/acme/shop/catalog@${digestOf('a')}` }), 'r'),
      /is not a registry repository/,
    );
    assert.throws(() => imageEntry(record('../etc', digestOf('a')), 'r'), /invalid project/);
    assert.throws(() => imageEntry([], 'r'), /not a build record/);
  });
  test('merge: records replace, earlier entries are kept, duplicates refused, a tagged earlier entry refused', () => {
    // The committed override has an entry per service of the workspace (however many), each a placeholder digest.
    const services = listServices().map((s) => `secure-ci/${s.name}`);
    const kept = parseOverride(readFileSync(COMMITTED, 'utf8'), 'committed');
    assert.deepEqual(kept.map((e) => e.name).sort(), [...services].sort());
    const merged = buildOverride([imageEntry(record('orders', digestOf('b')), 'o')], { kept });
    assert.deepEqual(
      merged.map((e) => `${e.name} ${e.digest.slice(7, 8)}`),
      [...services].sort().map((name) => `${name} ${name === 'secure-ci/orders' ? 'b' : '0'}`),
    );
    assert.throws(
      () => buildOverride([imageEntry(record('orders', digestOf('b')), 'o'), imageEntry(record('orders', digestOf('c')), 'p')]),
      (error) => error.name === 'CliError' && error.exitCode === 1 && !error.message.includes('\n'),
    );
    assert.throws(
      () => parseOverride('images:\n  - name: a\n    newName: b\n    newTag: latest\n    digest: ' + digestOf('a'), 'f'),
      /newTag; production takes digests only/,
    );
    assert.throws(() => parseOverride('kind: Component\n', 'f'), /no images: list/);
  });
});

describe('the CLI', () => {
  test('writes the Component with --out and a job-summary table', () => {
    const folder = path.join(dir, 'cli');
    const files = [writeRecord(folder, record('catalog', digestOf('a'))), writeRecord(folder, record('orders', digestOf('b')))];
    const out = path.join(folder, 'out/kustomization.yaml');
    const summary = path.join(folder, 'summary.md');
    writeFileSync(summary, '');
    const r = runK8sImages(['--out', out, ...files], { GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `k8s-images: 2 pushed images by digest -> ${out}\n`);
    const doc = YAML.parse(readFileSync(out, 'utf8'));
    assert.deepEqual(doc, {
      apiVersion: 'kustomize.config.k8s.io/v1alpha1',
      kind: 'Component',
      images: [
        { name: 'secure-ci/catalog', newName: 'ghcr.io/acme/shop/catalog', digest: digestOf('a') },
        { name: 'secure-ci/orders', newName: 'ghcr.io/acme/shop/orders', digest: digestOf('b') },
      ],
    });
    assert.match(readFileSync(summary, 'utf8'), /\| `ghcr\.io\/acme\/shop\/orders` \| `sha256:b{64}` \| pushed by this run \|/);
  });

  test('a record without a digest: one line, exit 1, nothing written', () => {
    const folder = path.join(dir, 'undigested');
    const out = path.join(folder, 'out.yaml');
    const r = runK8sImages(['--out', out, writeRecord(folder, record('catalog', digestOf('a'))), writeRecord(folder, record('orders'))]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      `k8s-images: error: ${path.join(folder, 'orders.json')}: orders has no digest: it was never pushed, so it cannot be deployed by digest\n`,
    );
    assert.throws(() => readFileSync(out));
  });

  test('usage and input errors: one line each', () => {
    const folder = path.join(dir, 'errors');
    for (const [args, status, pattern] of [
      [[], 2, /^k8s-images: error: no build records given/],
      [['--nope'], 2, /^k8s-images: error: unknown flag --nope/],
      [[path.join(folder, 'missing.json')], 2, /^k8s-images: error: no .*missing\.json: build the image first \(node tools\/docker-build\.mjs missing\)\n$/],
      [[writeRecord(folder, '{not json', 'bad.json')], 2, /^k8s-images: error: .*bad\.json is not valid JSON\n$/],
      [
        ['--merge', writeRecord(folder, 'images: [1', 'bad.yaml'), writeRecord(folder, record('catalog', digestOf('a')))],
        1,
        /^k8s-images: error: .*bad\.yaml: not YAML/,
      ],
    ]) {
      const r = runK8sImages(args);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
