// publish.yml's Kubernetes image override, rehearsed with tools/test/support/gha-rehearsal.mjs: the k8s-images job's real
// `run:` script over fixture build records (no Docker, no registry), then the emitted override dropped into the
// production overlay, rendered by kubectl and checked by the policy like the committed one.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { evaluateIf, githubContext, loadWorkflow, runJob } from '../../../tools/test/support/gha-rehearsal.mjs';
import { checkOverlay, WORKSPACE as workspaceRoot } from '../check.mjs';
import { digestOf, record, writeRecord } from '../../../tools/test/support/build-records.mjs';
import { facts, trivy } from './support.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-rehearsal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'event.json'), JSON.stringify({ ref: 'refs/heads/main' }));

describe('publish.yml rehearsal: the k8s-images job emits the digest override', () => {
  const workflow = loadWorkflow(path.join(workspaceRoot, '.github/workflows/publish.yml'));
  /** The k8s-images job after a successful plan and image job, with `uses` as its action substitutes. */
  const runK8sImagesJob = (github, uses) =>
    runJob({
      workflow,
      jobId: 'k8s-images',
      github,
      eventPath: path.join(dir, 'event.json'),
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
      needs: {
        plan: { result: 'success', outputs: { any: 'true' } },
        image: { result: 'success', outputs: {} },
        sign: { result: 'success', outputs: {} },
      },
      skipRuns: [{ match: /^npm ci --ignore-scripts/, reason: 'the workspace is already installed' }],
      uses,
    });

  test('every image job uploads its record last, under the name the k8s-images job downloads', () => {
    const steps = workflow.jobs.image.steps;
    const upload = steps.at(-1);
    assert.match(upload.uses, /^actions\/upload-artifact@[0-9a-f]{40}$/);
    assert.deepEqual(upload.with, {
      name: 'image-record-${{ matrix.project }}',
      path: '${{ runner.temp }}/image-records/*.json',
      'if-no-files-found': 'error',
      'retention-days': 7,
    });
    // The records of every image of the job (one, or a batch past the matrix cap), gathered just before.
    assert.match(steps.at(-2).run, /for project in \$PROJECTS; do cp "dist\/docker\/\$project\.json" "\$RUNNER_TEMP\/image-records\/"; done/);
    assert.equal(upload.if, undefined, 'only after the push, tags and signing handoff succeeded');
    // one handoff per image of the job, then its upload, before the records
    const handoff = steps.findIndex((s) => /image-record\.mjs "\$project" --handoff/.test(s.run ?? ''));
    assert.ok(handoff !== -1 && handoff < steps.length - 2);
    const job = workflow.jobs['k8s-images'];
    // after the signing job: no override names a digest that was not signed
    assert.deepEqual(job.needs, ['plan', 'image', 'sign']);
    assert.deepEqual(job.permissions, { contents: 'read' });
    const download = job.steps.find((s) => /^actions\/download-artifact@/.test(s.uses ?? ''));
    assert.equal(download.with.pattern, 'image-record-*');
    assert.equal(download.with['merge-multiple'], true);
  });

  test('no partial override: the job runs only when the plan had images and every image job succeeded', () => {
    const condition = workflow.jobs['k8s-images'].if;
    const when = (plan, image, sign = image) => {
      const needs = {
        plan: { result: plan, outputs: plan === 'success' ? { any: 'true' } : {} },
        image: { result: image, outputs: {} },
        sign: { result: sign, outputs: {} },
      };
      const results = Object.values(needs).map((need) => need.result);
      // As the runner decides a job's success(): every job it needs succeeded.
      return evaluateIf(condition, {
        github: {},
        needs,
        __status: { failed: results.includes('failure'), cancelled: false, skipped: results.includes('skipped') },
      });
    };
    assert.equal(when('success', 'success'), true);
    assert.equal(when('success', 'failure'), false, 'one image failed its gate, push or signature');
    assert.equal(when('success', 'skipped'), false);
    assert.equal(when('success', 'success', 'failure'), false, 'a digest was not signed');
    assert.equal(when('skipped', 'skipped'), false, 'not main or a v* tag');
  });

  test('runs the real script over fixture records; the override renders into the production overlay and passes the policy', async () => {
    const fixtures = path.join(dir, 'fixtures');
    writeRecord(fixtures, record('catalog', digestOf('a')));
    writeRecord(fixtures, record('orders', digestOf('b')));
    const artifacts = {};
    const downloads = [];
    const github = githubContext({
      eventName: 'push',
      payload: { ref: 'refs/heads/main' },
      repository: 'acme/shop',
      sha: 'c0ffee'.padEnd(40, '0'),
      ref: 'refs/heads/main',
      workspace: workspaceRoot,
      workflowFile: '.github/workflows/publish.yml',
    });
    const result = await runK8sImagesJob(github, {
      'actions/checkout': () => ({ note: 'the workspace is this checkout' }),
      'actions/setup-node': () => ({ note: `Node.js ${process.version}` }),
      'actions/download-artifact': ({ with: inputs }) => {
        downloads.push(inputs);
        cpSync(fixtures, inputs.path, { recursive: true });
      },
      'actions/upload-artifact': ({ with: inputs }) => {
        artifacts[inputs.name] = readFileSync(inputs.path, 'utf8');
      },
    });
    assert.equal(result.result, 'success', result.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join('\n'));
    assert.equal(downloads.length, 1);
    assert.match(downloads[0].path, /\/image-records$/);
    const write = result.steps.find((s) => /^Write the override/.test(s.name));
    // every committed entry without a record is kept (notifications, and any generated service)
    const committed = YAML.parse(readFileSync(path.join(workspaceRoot, 'deploy/k8s/overlays/production/images/kustomization.yaml'), 'utf8')).images;
    const kept = committed.filter((i) => !['secure-ci/catalog', 'secure-ci/orders'].includes(i.name)).sort((a, b) => a.name.localeCompare(b.name));
    assert.ok(kept.some((i) => i.name === 'secure-ci/notifications'));
    const keptList = kept
      .map((i) => i.name)
      .join(', ')
      .replaceAll('/', '\\/');
    assert.match(
      write.output,
      new RegExp(
        `k8s-images: 2 pushed images by digest, ${kept.length} kept from deploy\\/k8s\\/overlays\\/production\\/images\\/kustomization\\.yaml \\(${keptList}\\) -> `,
      ),
    );
    assert.match(result.summary, /### Kubernetes image override/);

    const override = artifacts['k8s-images'];
    assert.ok(override, `artifacts: ${Object.keys(artifacts)}`);
    assert.match(override, /^# Digests built from c0ffee0+ in https:\/\/github\.com\/acme\/shop\/actions\/runs\/1$/m);
    const images = YAML.parse(override).images;
    assert.deepEqual(
      images.map((i) => `${i.name} ${i.newName} ${i.digest.slice(0, 8)}`),
      [
        'secure-ci/catalog ghcr.io/acme/shop/catalog sha256:a',
        ...kept.map((i) => `${i.name} ${i.newName} ${i.digest.slice(0, 8)}`),
        'secure-ci/orders ghcr.io/acme/shop/orders sha256:b',
      ].sort((a, b) => a.split(' ')[0].localeCompare(b.split(' ')[0])),
    );

    // The artifact is a drop-in replacement of the committed component: render production with it.
    const k8s = path.join(dir, 'k8s');
    cpSync(path.join(workspaceRoot, 'deploy/k8s'), k8s, { recursive: true });
    writeFileSync(path.join(k8s, 'overlays/production/images/kustomization.yaml'), override);
    const {
      objects,
      schemaProblems,
      trivy: found,
      policyProblems,
    } = await checkOverlay('production', { dir: path.join(k8s, 'overlays/production'), facts, trivy });
    assert.deepEqual([...schemaProblems, ...found.findings, ...policyProblems], []);
    const deployed = Object.fromEntries(objects.filter((o) => o.kind === 'Deployment').map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image]));
    assert.deepEqual(deployed, {
      ...Object.fromEntries(kept.map((i) => [i.name.split('/').pop(), `${i.newName}@${i.digest}`])),
      catalog: `ghcr.io/acme/shop/catalog@${digestOf('a')}`,
      orders: `ghcr.io/acme/shop/orders@${digestOf('b')}`,
    });
    assert.equal(deployed.notifications, `ghcr.io/secure-ci/secure-ci-monorepo/notifications@${digestOf('0')}`);
  });

  test('a record without a digest fails the job: nothing is attached', async () => {
    const fixtures = path.join(dir, 'undigested-fixtures');
    writeRecord(fixtures, record('catalog'));
    const artifacts = {};
    const github = githubContext({
      eventName: 'push',
      payload: {},
      repository: 'acme/shop',
      sha: '1'.repeat(40),
      ref: 'refs/heads/main',
      workspace: workspaceRoot,
    });
    const result = await runK8sImagesJob(github, {
      'actions/checkout': () => {},
      'actions/setup-node': () => {},
      'actions/download-artifact': ({ with: inputs }) => void cpSync(fixtures, inputs.path, { recursive: true }),
      'actions/upload-artifact': ({ with: inputs }) => void (artifacts[inputs.name] = true),
    });
    assert.equal(result.result, 'failure');
    const write = result.steps.find((s) => /^Write the override/.test(s.name));
    assert.match(write.output, /k8s-images: error: .*catalog\.json: catalog has no digest/);
    assert.deepEqual(artifacts, {});
  });
});
