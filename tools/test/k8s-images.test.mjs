// tools/k8s-images.mjs: the production overlay's image override from build records, and its wiring in
// publish.yml rehearsed with tools/lib/gha-rehearsal.mjs: the k8s-images job's real `run:` script over fixture
// build records (no Docker, no registry), then the emitted override rendered into the production overlay and
// checked by the Kubernetes policy (deploy/k8s/check.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { checkOverlay } from '../../deploy/k8s/check.mjs';
import { githubContext, loadWorkflow, runJob } from '../lib/gha-rehearsal.mjs';
import { buildOverride, imageEntry, ImagesError, parseOverride } from '../lib/k8s-images.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';

const TOOL = path.join(workspaceRoot, 'tools/k8s-images.mjs');
const COMMITTED = path.join(workspaceRoot, 'deploy/k8s/overlays/production/images/kustomization.yaml');
const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-images-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'event.json'), JSON.stringify({ ref: 'refs/heads/main' }));

const digestOf = (char) => `sha256:${char.repeat(64)}`;
/** A build record as tools/docker-build.mjs --push writes it (image and digest at the top level). */
const record = (project, digest, extra = {}) => ({
  project,
  image: `ghcr.io/acme/shop/${project}`,
  tags: [`ghcr.io/acme/shop/${project}:edge`],
  imageId: digestOf('f'),
  labels: { 'org.opencontainers.image.title': project },
  version: 'edge',
  ...(digest ? { digest } : {}),
  ...extra,
});
const writeRecord = (folder, value, name = `${value.project}.json`) => {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
};
const runTool = (args, env = {}) => spawnSync(process.execPath, [TOOL, ...args], { cwd: workspaceRoot, encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env } });

describe('image entries from build records', () => {
  test('a pushed record: name as the bases use it, newName the repository, digest', () => {
    assert.deepEqual(imageEntry(record('catalog', digestOf('a')), 'catalog.json'), { name: 'secure-ci/catalog', newName: 'ghcr.io/acme/shop/catalog', digest: digestOf('a') });
  });
  test("tools/push.mjs's `pushed` section wins over the build's own image and digest", () => {
    const pushed = record('orders', digestOf('a'), { pushed: { image: 'registry.local:5000/x/orders', tags: [], digest: digestOf('b') } });
    assert.deepEqual(imageEntry(pushed, 'orders.json'), { name: 'secure-ci/orders', newName: 'registry.local:5000/x/orders', digest: digestOf('b') });
  });
  test('refused: no digest, a malformed digest, a tagged or digested image, a bad project, not an object', () => {
    assert.throws(() => imageEntry(record('catalog'), 'dist/docker/catalog.json'), { message: 'dist/docker/catalog.json: catalog has no digest: it was never pushed, so it cannot be deployed by digest' });
    assert.throws(() => imageEntry(record('catalog', 'sha256:abc'), 'r'), /digest "sha256:abc" is not sha256:<64 hex>/);
    assert.throws(() => imageEntry(record('catalog', digestOf('a'), { image: 'ghcr.io/acme/shop/catalog:1.0' }), 'r'), /is not a registry repository/);
    assert.throws(() => imageEntry(record('catalog', digestOf('a'), { image: `ghcr.io/acme/shop/catalog@${digestOf('a')}` }), 'r'), /is not a registry repository/);
    assert.throws(() => imageEntry(record('../etc', digestOf('a')), 'r'), /invalid project/);
    assert.throws(() => imageEntry([], 'r'), /not a build record/);
  });
  test('merge: records replace, earlier entries are kept, duplicates refused, a tagged earlier entry refused', () => {
    const kept = parseOverride(readFileSync(COMMITTED, 'utf8'), 'committed');
    assert.deepEqual(kept.map((e) => e.name), ['secure-ci/catalog', 'secure-ci/orders', 'secure-ci/notifications']);
    const merged = buildOverride([imageEntry(record('orders', digestOf('b')), 'o')], { kept });
    assert.deepEqual(merged.map((e) => `${e.name} ${e.digest.slice(7, 8)}`), ['secure-ci/catalog 0', 'secure-ci/notifications 0', 'secure-ci/orders b']);
    assert.throws(() => buildOverride([imageEntry(record('orders', digestOf('b')), 'o'), imageEntry(record('orders', digestOf('c')), 'p')]), ImagesError);
    assert.throws(() => parseOverride('images:\n  - name: a\n    newName: b\n    newTag: latest\n    digest: ' + digestOf('a'), 'f'), /newTag; production takes digests only/);
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
    const r = runTool(['--out', out, ...files], { GITHUB_STEP_SUMMARY: summary });
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
    const r = runTool(['--out', out, writeRecord(folder, record('catalog', digestOf('a'))), writeRecord(folder, record('orders'))]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `k8s-images: error: ${path.join(folder, 'orders.json')}: orders has no digest: it was never pushed, so it cannot be deployed by digest\n`);
    assert.throws(() => readFileSync(out));
  });

  test('usage and input errors: one line each', () => {
    const folder = path.join(dir, 'errors');
    for (const [args, status, pattern] of [
      [[], 2, /^k8s-images: error: no build records given/],
      [['--nope'], 2, /^k8s-images: error: Unknown option '--nope'/],
      [[path.join(folder, 'missing.json')], 2, /^k8s-images: error: build record .*missing\.json not found\n$/],
      [[writeRecord(folder, '{not json', 'bad.json')], 1, /^k8s-images: error: .*bad\.json: not JSON\n$/],
      [['--merge', writeRecord(folder, 'images: [1', 'bad.yaml'), writeRecord(folder, record('catalog', digestOf('a')))], 1, /^k8s-images: error: .*bad\.yaml: not YAML/],
    ]) {
      const r = runTool(args);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('publish.yml rehearsal: the k8s-images job emits the digest override', () => {
  const workflow = loadWorkflow(path.join(workspaceRoot, '.github/workflows/publish.yml'));

  test('every image job uploads its record last, under the name the k8s-images job downloads', () => {
    const steps = workflow.jobs.image.steps;
    const upload = steps.at(-1);
    assert.match(upload.uses, /^actions\/upload-artifact@[0-9a-f]{40}$/);
    assert.deepEqual(upload.with, { name: 'image-record-${{ matrix.project }}', path: 'dist/docker/${{ matrix.project }}.json', 'if-no-files-found': 'error', 'retention-days': 7 });
    assert.equal(upload.if, undefined, 'only after the push, signature and attestation succeeded');
    assert.ok(steps.findIndex((s) => /cosign sign\b/.test(s.run ?? '')) < steps.length - 1);
    const job = workflow.jobs['k8s-images'];
    assert.deepEqual(job.needs, ['plan', 'image']);
    assert.deepEqual(job.permissions, { contents: 'read' });
    const download = job.steps.find((s) => /^actions\/download-artifact@/.test(s.uses ?? ''));
    assert.equal(download.with.pattern, 'image-record-*');
    assert.equal(download.with['merge-multiple'], true);
  });

  test('runs the real script over fixture records; the override renders into the production overlay and passes the policy', async () => {
    const fixtures = path.join(dir, 'fixtures');
    writeRecord(fixtures, record('catalog', digestOf('a')));
    writeRecord(fixtures, record('orders', digestOf('b')));
    const artifacts = {};
    const downloads = [];
    const github = githubContext({ eventName: 'push', payload: { ref: 'refs/heads/main' }, repository: 'acme/shop', sha: 'c0ffee'.padEnd(40, '0'), ref: 'refs/heads/main', workspace: workspaceRoot, workflowFile: '.github/workflows/publish.yml' });
    const result = await runJob({
      workflow,
      jobId: 'k8s-images',
      github,
      eventPath: path.join(dir, 'event.json'),
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
      needs: { plan: { result: 'success', outputs: { any: 'true' } }, image: { result: 'success', outputs: {} } },
      skipRuns: [{ match: /^npm ci --ignore-scripts/, reason: 'the workspace is already installed' }],
      uses: {
        'actions/checkout': () => ({ note: 'the workspace is this checkout' }),
        'actions/setup-node': () => ({ note: `Node.js ${process.version}` }),
        'actions/download-artifact': ({ with: inputs }) => {
          downloads.push(inputs);
          cpSync(fixtures, inputs.path, { recursive: true });
        },
        'actions/upload-artifact': ({ with: inputs }) => {
          artifacts[inputs.name] = readFileSync(inputs.path, 'utf8');
        },
      },
    });
    assert.equal(result.result, 'success', result.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join('\n'));
    assert.equal(downloads.length, 1);
    assert.match(downloads[0].path, /\/image-records$/);
    const write = result.steps.find((s) => /^Write the override/.test(s.name));
    assert.match(write.output, /k8s-images: 2 pushed images by digest, 1 kept from deploy\/k8s\/overlays\/production\/images\/kustomization\.yaml \(secure-ci\/notifications\) -> /);
    assert.match(result.summary, /### Kubernetes image override/);

    const override = artifacts['k8s-images'];
    assert.ok(override, `artifacts: ${Object.keys(artifacts)}`);
    assert.match(override, /^# Digests built from c0ffee0+ in https:\/\/github\.com\/acme\/shop\/actions\/runs\/1$/m);
    const images = YAML.parse(override).images;
    assert.deepEqual(images.map((i) => `${i.name} ${i.newName} ${i.digest.slice(0, 8)}`), [
      'secure-ci/catalog ghcr.io/acme/shop/catalog sha256:a',
      'secure-ci/notifications ghcr.io/secure-ci/secure-ci-monorepo/notifications sha256:0',
      'secure-ci/orders ghcr.io/acme/shop/orders sha256:b',
    ]);

    // The artifact is a drop-in replacement of the committed component: render production with it.
    const k8s = path.join(dir, 'k8s');
    cpSync(path.join(workspaceRoot, 'deploy/k8s/base'), path.join(k8s, 'base'), { recursive: true });
    cpSync(path.join(workspaceRoot, 'deploy/k8s/overlays/production'), path.join(k8s, 'overlays/production'), { recursive: true });
    writeFileSync(path.join(k8s, 'overlays/production/images/kustomization.yaml'), override);
    const { objects, schemaProblems, policyProblems } = await checkOverlay('production', { dir: path.join(k8s, 'overlays/production') });
    assert.deepEqual([...schemaProblems, ...policyProblems], []);
    const deployed = Object.fromEntries(objects.filter((o) => o.kind === 'Deployment').map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image]));
    assert.deepEqual(deployed, {
      catalog: `ghcr.io/acme/shop/catalog@${digestOf('a')}`,
      notifications: `ghcr.io/secure-ci/secure-ci-monorepo/notifications@${digestOf('0')}`,
      orders: `ghcr.io/acme/shop/orders@${digestOf('b')}`,
    });
  });

  test('a record without a digest fails the job: nothing is attached', async () => {
    const fixtures = path.join(dir, 'undigested-fixtures');
    writeRecord(fixtures, record('catalog'));
    const artifacts = {};
    const github = githubContext({ eventName: 'push', payload: {}, repository: 'acme/shop', sha: '1'.repeat(40), ref: 'refs/heads/main', workspace: workspaceRoot });
    const result = await runJob({
      workflow,
      jobId: 'k8s-images',
      github,
      eventPath: path.join(dir, 'event.json'),
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
      needs: { plan: { result: 'success', outputs: { any: 'true' } }, image: { result: 'success', outputs: {} } },
      skipRuns: [{ match: /^npm ci --ignore-scripts/, reason: 'the workspace is already installed' }],
      uses: {
        'actions/checkout': () => {},
        'actions/setup-node': () => {},
        'actions/download-artifact': ({ with: inputs }) => void cpSync(fixtures, inputs.path, { recursive: true }),
        'actions/upload-artifact': ({ with: inputs }) => void (artifacts[inputs.name] = true),
      },
    });
    assert.equal(result.result, 'failure');
    const write = result.steps.find((s) => /^Write the override/.test(s.name));
    assert.match(write.output, /k8s-images: error: .*catalog\.json: catalog has no digest/);
    assert.deepEqual(artifacts, {});
  });
});
