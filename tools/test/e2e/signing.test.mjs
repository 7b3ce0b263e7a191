// Signing, for real. publish.yml's `sign` job (the only job holding id-token: write; no checkout, no npm, no node) runs
// through the rehearsal runner with the real cosign 2.5 against a registry on 127.0.0.1 (Debian's docker-registry):
// a key pair made for the run stands in for the keyless identity, and that is the only difference: the step's
// script is the workflow's own, only COSIGN_SIGN_FLAGS / COSIGN_VERIFY_FLAGS are replaced by key flags.
// The images are small synthetic multi-platform indexes written through the registry API, so no Docker Engine is
// needed; the real Trivy (test support, fixture DB) writes each platform's CycloneDX SBOM from the registry as
// tools/scan.mjs does, and the handoffs come from .github/scripts/image-record.mjs --handoff, as the gated jobs write them.
// Then refresh.yml -> publish.yml (workflow_call) as far as this machine allows: refresh's check and publish's plan and
// sign run for real; base, image and k8s-images are evaluated for their conditions (building both release platforms
// of every image is the pipeline e2e's and the PR rehearsal's part). The identity checked is the called workflow's.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeHandoff } from '../../../.github/scripts/image-record.mjs';
import { $, which } from '../../lib/process.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { githubContext, loadWorkflow, runJobs } from '../support/gha-rehearsal.mjs';
import { startLocalRegistry } from '../support/local-registry.mjs';
import { pushSyntheticImage } from '../support/synthetic-image.mjs';
import { fixtureTrivyCache, trivyBinary } from '../support/real-trivy.mjs';
import { runTool } from '../support/run-tool.mjs';

const REPOSITORY = 'Acme-Org/Shop-Repo';
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

/** cosign: COSIGN_BIN, else on PATH, else the one /opt/secure-ci-docker provides; one line when there is none. */
async function findCosign() {
  for (const candidate of [process.env.COSIGN_BIN, await which('cosign', { nothrow: true }), '/opt/secure-ci-docker/bin/cosign'])
    if (candidate && existsSync(candidate)) return candidate;
  throw new Error('cosign not found: install cosign >= 2.5 (bash .ci/install-docker) or set COSIGN_BIN');
}

const runnerEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(GITHUB_|RUNNER_|ACTIONS_|NODE_TEST_CONTEXT$)/.test(key))),
  COSIGN_PASSWORD: '',
});

describe('publish.yml sign job: real cosign signs and attests the handed-over digests (key pair for the run)', () => {
  let registry;
  let dir;
  let cosign;
  let keys;
  let trivy;
  let trivyCache;
  let setupError;
  const images = {};
  const artifacts = () => path.join(dir, 'artifacts');
  const ready = () => {
    if (setupError) throw setupError;
  };

  /** The CycloneDX SBOM the real Trivy writes for `ref` (as tools/scan.mjs runs it: remote, by platform digest). */
  async function trivySbom(ref, output) {
    const env = { ...runnerEnv(), TRIVY_CACHE_DIR: trivyCache, TRIVY_SKIP_DB_UPDATE: 'true' };
    const scanned = await $({
      env,
      nothrow: true,
      timeout: '180s',
    })`${trivy} image --quiet --image-src remote --insecure --skip-db-update --format cyclonedx --output ${output} ${ref}`;
    if (scanned.exitCode !== 0) throw new Error(`trivy could not write the SBOM of ${ref}: ${scanned.stderr.trim().split('\n').pop()}`);
  }

  /** A gated, pushed image: synthetic index in the registry, its record with a passing scan and real Trivy SBOMs. */
  async function gatedImage(project, { scan = 'pass', sbomFor } = {}) {
    const image = `${registry.host}/${REPOSITORY.toLowerCase()}/${project}`;
    const pushed = await pushSyntheticImage(registry.host, `${REPOSITORY.toLowerCase()}/${project}`, {
      platforms: PLATFORMS,
      seed: `${project}-${Math.random()}`,
    });
    const platforms = {};
    const scanned = {};
    for (const platform of PLATFORMS) {
      const digest = pushed.platforms[platform];
      platforms[platform] = { digest };
      const sbom = path.join(dir, 'sboms', `${project}.${platform.replace('/', '-')}.cdx.json`);
      mkdirSync(path.dirname(sbom), { recursive: true });
      await trivySbom(sbomFor?.(platform) ?? `${image}@${digest}`, sbom);
      scanned[platform] = {
        digest,
        passed: true,
        runtime: { version: '24.22.3', verdict: scan === 'skipped' ? 'skipped' : 'pass' },
        sbom: { cyclonedx: sbom },
      };
    }
    const record = {
      project,
      image,
      tags: [`${image}:edge`],
      imageId: `sha256:${'e'.repeat(64)}`,
      digest: pushed.digest,
      platforms,
      pushed: { image, digest: pushed.digest, tags: [] },
      ...(scan === 'none' ? {} : { scan: { digest: pushed.digest, passed: true, platforms: scanned } }),
    };
    return { image, digest: pushed.digest, platforms: pushed.platforms, record, ref: `${image}@${pushed.digest}` };
  }

  const substitutes = (calls) => ({
    'actions/download-artifact': ({ with: inputs }) => {
      calls.push(['download', inputs.pattern]);
      // merge-multiple (publish.yml): every artifact's directories (one per image) side by side in the path
      for (const name of readdirSync(artifacts()).filter((n) => n.startsWith('signing-')))
        cpSync(path.join(artifacts(), name), inputs['merge-multiple'] ? inputs.path : path.join(inputs.path, name), { recursive: true });
      return {};
    },
    'sigstore/cosign-installer': ({ files }) => (appendFileSync(files.path, `${path.dirname(cosign)}\n`), {}),
    'docker/login-action': () => ({ note: 'a registry on 127.0.0.1 needs no login' }),
    'actions/attest-build-provenance': ({ with: inputs }) => {
      calls.push(['attest', readFileSync(inputs['subject-checksums'], 'utf8')]);
      return { note: 'GitHub attestations need GitHub; the subjects are recorded' };
    },
    // what refresh.yml and publish.yml's other jobs use; those steps are dry-run or replaced here
    ...Object.fromEntries(
      [
        'actions/checkout',
        'actions/setup-node',
        'nrwl/nx-set-shas',
        'docker/setup-buildx-action',
        'aquasecurity/setup-trivy',
        'github/codeql-action/upload-sarif',
        'actions/upload-artifact',
      ].map((action) => [action, () => ({})]),
    ),
  });

  const keyFlags = () => ({
    COSIGN_SIGN_FLAGS: `--key ${keys.private} --tlog-upload=false --allow-insecure-registry`,
    COSIGN_VERIFY_FLAGS: `--key ${keys.public} --insecure-ignore-tlog=true --allow-insecure-registry`,
  });
  const cosignRun = (args) => $({ nothrow: true, env: runnerEnv(), timeout: '120s' })`${cosign} ${args}`;
  const verify = (ref, key = keys.public) => cosignRun(['verify', '--key', key, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref]);
  const verifyAttestation = (ref, key = keys.public) =>
    cosignRun(['verify-attestation', '--type', 'cyclonedx', '--key', key, '--insecure-ignore-tlog=true', '--allow-insecure-registry', ref]);

  /** `entries`: the gated jobs, each one image or (an array) a batch job's images. */
  async function runSign(entries, { github } = {}) {
    rmSync(artifacts(), { recursive: true, force: true });
    // As the gated jobs upload them: one artifact per job (signing-<project>, or signing-<batch> for a batch job), with
    // one handoff directory per image inside.
    for (const [index, entry] of entries.entries()) {
      const name = Array.isArray(entry) ? `signing-batch-${index + 1}-of-${entries.length}` : `signing-${entry.record.project}`;
      for (const gated of [entry].flat()) writeHandoff(gated.record, path.join(artifacts(), name, gated.record.project), dir);
    }
    const calls = [];
    const workflow = loadWorkflow(path.join(workspaceRoot, '.github/workflows/publish.yml'));
    const payload = { ref: 'refs/heads/main', repository: { full_name: REPOSITORY, private: false, default_branch: 'main' } };
    const identity = `https://github.com/${REPOSITORY}/.github/workflows/publish.yml@refs/heads/main`;
    const result = await runJobs({
      workflow,
      jobs: ['sign'],
      github:
        github ??
        githubContext({
          eventName: 'push',
          payload,
          repository: REPOSITORY,
          sha: 'a'.repeat(40),
          ref: 'refs/heads/main',
          workspace: dir,
          workflowFile: '.github/workflows/publish.yml',
        }),
      payload,
      baseEnv: runnerEnv(),
      workflowEnv: { REGISTRY: registry.host },
      uses: substitutes(calls),
      envOverrides: keyFlags(),
      preset: {
        plan: { result: 'success', outputs: { 'signing-identity': identity } },
        base: { result: 'success', outputs: {} },
        image: { result: 'success', outputs: {} },
      },
      log: process.env.REHEARSAL_VERBOSE ? (text) => process.stderr.write(text) : undefined,
    });
    return { job: result.sign.runs[0], result: result.sign, calls, identity };
  }

  before(async () => {
    try {
      cosign = await findCosign();
      trivy = await trivyBinary();
      registry = await startLocalRegistry();
      dir = mkdtempSync(path.join(os.tmpdir(), 'signing-'));
      trivyCache = fixtureTrivyCache([], { dir: path.join(dir, 'trivy-db') });
      keys = {};
      for (const name of ['run', 'other']) {
        const keyDir = path.join(dir, 'keys', name);
        mkdirSync(keyDir, { recursive: true });
        const made = await $({ cwd: keyDir, env: runnerEnv(), nothrow: true })`${cosign} generate-key-pair`;
        if (made.exitCode !== 0) throw new Error(`cosign generate-key-pair failed: ${made.stderr.trim().split('\n').pop()}`);
        keys[name === 'run' ? 'private' : 'otherPrivate'] = path.join(keyDir, 'cosign.key');
        keys[name === 'run' ? 'public' : 'otherPublic'] = path.join(keyDir, 'cosign.pub');
      }
      images.base = await gatedImage('base-image');
      images.catalog = await gatedImage('catalog');
      images.unsigned = await gatedImage('notifications');
      images.batchmate = await gatedImage('payments');
    } catch (error) {
      setupError = error;
    }
  });
  after(async () => {
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let signed;
  test("the workflow's sign step signs every index digest of every job, batches included, and attests every platform's SBOM; cosign verify --key passes", async () => {
    ready();
    // the base job, and a batch job of two images (matrix past MATRIX_MAX_JOBS)
    signed = await runSign([images.base, [images.catalog, images.batchmate]]);
    const step = signed.job.steps.find((s) => s.id === 'sign');
    assert.equal(signed.result.result, 'success', step?.output);
    for (const gated of [images.base, images.catalog, images.batchmate]) {
      assert.match(step.output, new RegExp(`^signed: index ${gated.ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      const verified = await verify(gated.ref);
      assert.equal(verified.exitCode, 0, verified.stderr);
      for (const platform of PLATFORMS) {
        const ref = `${gated.image}@${gated.platforms[platform]}`;
        const attested = await verifyAttestation(ref);
        assert.equal(attested.exitCode, 0, attested.stderr);
        const statement = JSON.parse(Buffer.from(JSON.parse(attested.stdout.trim().split('\n')[0]).payload, 'base64').toString('utf8'));
        assert.equal(statement.predicateType, 'https://cyclonedx.org/bom');
        assert.equal(statement.predicate.metadata.component.name, ref, "the real Trivy SBOM of that platform's digest");
        assert.deepEqual(statement.subject[0].digest, { sha256: gated.platforms[platform].slice('sha256:'.length) });
      }
    }
  });

  test("the script run is the workflow's own: only the key flags differ from the keyless ones in publish.yml", () => {
    ready();
    assert.ok(signed, 'signed in the previous test');
    assert.equal(signed.job.jobEnv.COSIGN_SIGN_FLAGS, '', 'keyless on GitHub');
    assert.equal(
      signed.job.jobEnv.COSIGN_VERIFY_FLAGS,
      `--certificate-identity ${signed.identity} --certificate-oidc-issuer https://token.actions.githubusercontent.com`,
    );
    const subjects = signed.calls.find(([kind]) => kind === 'attest')[1];
    for (const gated of [images.base, images.catalog, images.batchmate])
      assert.match(subjects, new RegExp(`^${gated.digest.slice('sha256:'.length)}  ${gated.image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  test('counter-examples: another digest, another key, and an index without an SBOM attestation do not verify', async () => {
    ready();
    assert.notEqual((await verify(images.unsigned.ref)).exitCode, 0, 'a digest that was not signed');
    assert.notEqual((await verify(images.catalog.ref, keys.otherPublic)).exitCode, 0, 'the signature with another key');
    assert.notEqual((await verifyAttestation(`${images.catalog.image}@${images.catalog.platforms['linux/amd64']}`, keys.otherPublic)).exitCode, 0);
    assert.notEqual((await verifyAttestation(`${images.unsigned.image}@${images.unsigned.platforms['linux/amd64']}`)).exitCode, 0);
  });

  test('an SBOM that names another digest stops the job before cosign runs: nothing of any image is signed', async () => {
    ready();
    const good = await gatedImage('orders');
    const wrong = await gatedImage('inventory', { sbomFor: () => `${images.unsigned.image}@${images.unsigned.platforms['linux/amd64']}` });
    const run = await runSign([good, wrong]);
    assert.equal(run.result.result, 'failure');
    const step = run.job.steps.find((s) => s.id === 'sign');
    assert.match(step.output, /::error::.*inventory\.linux-amd64\.cdx\.json does not describe sha256:[0-9a-f]{64}: refusing to attest it/);
    assert.doesNotMatch(step.output, /^signed: /m);
    for (const gated of [good, wrong]) {
      const tags = await registry.tags(`${REPOSITORY.toLowerCase()}/${gated.record.project}`);
      assert.deepEqual(
        tags.filter((t) => /\.(sig|att)$/.test(t)),
        [],
        `${gated.record.project}: no signature or attestation`,
      );
    }
  });

  test('a digest without a passing scan, or with a skipped runtime gate, is never handed over (refused before cosign)', async () => {
    ready();
    const unscanned = await gatedImage('unscanned', { scan: 'none' });
    assert.throws(() => writeHandoff(unscanned.record, path.join(dir, 'refused-1'), dir), /refusing to hand on a digest for signing: .* has no scan record/);
    const failed = await gatedImage('failed');
    failed.record.scan.passed = false;
    assert.throws(() => writeHandoff(failed.record, path.join(dir, 'refused-2'), dir), /did not pass its scan/);
    const skipped = await gatedImage('skipped', { scan: 'skipped' });
    assert.throws(() => writeHandoff(skipped.record, path.join(dir, 'refused-3'), dir), /runtime gate was skipped/);
    for (const name of ['refused-1', 'refused-2', 'refused-3']) assert.equal(existsSync(path.join(dir, name, 'handoff.txt')), false);
  });

  test('tools/verify-images.mjs: the k8s-images override verifies only when every digest carries a valid signature', async () => {
    ready();
    const override = (entries) => {
      const file = path.join(dir, `override-${Math.random()}.yaml`);
      const lines = ['apiVersion: kustomize.config.k8s.io/v1alpha1', 'kind: Component', 'images:'];
      for (const gated of entries) lines.push(`  - name: secure-ci/${gated.record.project}`, `    newName: ${gated.image}`, `    digest: ${gated.digest}`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      return file;
    };
    const tool = (file, key = keys.public) =>
      runTool(path.join(workspaceRoot, 'tools/verify-images.mjs'), [file, '--key', key, '--allow-insecure-registry'], {
        env: { ...runnerEnv(), COSIGN_BIN: cosign },
      });
    const ok = tool(override([images.base, images.catalog]));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /verified: 2 images/);
    const unsigned = tool(override([images.catalog, images.unsigned]));
    assert.equal(unsigned.status, 1);
    assert.match(unsigned.stderr, /^verify-images: error: NOT VERIFIED: .*notifications@sha256:[0-9a-f]{64}/);
    assert.equal(unsigned.stderr.trim().split('\n').length, 1);
    const otherKey = tool(override([images.catalog]), keys.otherPublic);
    assert.equal(otherKey.status, 1, 'counter-example: the right digest, another key');
  });
  test('refresh.yml -> publish.yml (workflow_call): the identity is publish.yml@refs/heads/main, not refresh.yml; only the named secret reaches publish', async () => {
    ready();
    const refreshed = await gatedImage('base-image');
    rmSync(artifacts(), { recursive: true, force: true });
    writeHandoff(refreshed.record, path.join(artifacts(), 'signing-base-image', 'base-image'), dir);
    const refresh = loadWorkflow(path.join(workspaceRoot, '.github/workflows/refresh.yml'));
    const payload = { schedule: '17 5 * * *', repository: { full_name: REPOSITORY, private: false, default_branch: 'main' } };
    const github = githubContext({
      eventName: 'schedule',
      payload,
      repository: REPOSITORY,
      sha: 'c'.repeat(40),
      ref: 'refs/heads/main',
      workspace: workspaceRoot,
      workflowFile: '.github/workflows/refresh.yml',
    });
    const calls = [];
    const matrix = JSON.stringify({ include: [{ project: 'catalog', image: `${registry.host}/${REPOSITORY.toLowerCase()}/catalog` }] });
    const done = await runJobs({
      workflow: refresh,
      jobs: ['check', 'publish'],
      github,
      payload,
      baseEnv: runnerEnv(),
      workflowEnv: { REGISTRY: registry.host },
      secrets: { PRIVATE_REPO_TOKEN: 'npm-token-for-the-build', UNRELATED: 'must-not-reach-publish' },
      uses: substitutes(calls),
      envOverrides: keyFlags(),
      skipRuns: [
        { match: /^npm ci\b/, reason: 'node_modules is the workspace own' },
        // the published base cannot be pulled here: the check reports it stale with a snapshot id
        { match: /base-freshness\.mjs/, reason: 'no published base to pull', outputs: { stale: 'true', snapshot: 'snap-123' } },
        // publish's plan: the matrix tool is rehearsed on its own (rehearsal.test.mjs); here one service and the base
        { match: /affected-matrix\.mjs/, reason: 'matrix given', outputs: { matrix, any: 'true', 'base-affected': 'true' } },
      ],
      // building both platforms of every image is the pipeline e2e's part; their conditions and inputs are evaluated
      dryRun: ['base', 'image', 'k8s-images'],
      called: { publish: { jobs: ['plan', 'base', 'image', 'sign', 'k8s-images'] } },
    });
    assert.equal(done.check.result, 'success');
    assert.equal(done.check.outputs.stale, 'true');
    const call = done.publish.called;
    assert.equal(done.publish.result, 'success', JSON.stringify(Object.fromEntries(Object.entries(call.jobs).map(([id, job]) => [id, job.result]))));
    // the called workflow's own ref (the OIDC claim job_workflow_ref Fulcio certifies) vs the caller's GITHUB_WORKFLOW_REF
    assert.equal(call.jobWorkflowRef, `${REPOSITORY}/.github/workflows/publish.yml@refs/heads/main`);
    const plan = call.jobs.plan.runs[0];
    const identity = plan.outputs['signing-identity'];
    assert.equal(identity, `https://github.com/${call.jobWorkflowRef}`, 'signed and verified as the called workflow');
    assert.equal(github.workflow_ref, `${REPOSITORY}/.github/workflows/refresh.yml@refs/heads/main`, 'GITHUB_WORKFLOW_REF names the caller');
    assert.notEqual(identity, `${github.server_url}/${github.workflow_ref}`, 'counter-example: the formula publish.yml used before');
    const sign = call.jobs.sign.runs[0];
    assert.equal(sign.jobWorkflowRef, call.jobWorkflowRef);
    assert.equal(sign.jobEnv.COSIGN_VERIFY_FLAGS, `--certificate-identity ${identity} --certificate-oidc-issuer https://token.actions.githubusercontent.com`);
    assert.equal(call.jobs.sign.result, 'success');
    assert.equal((await verify(refreshed.ref)).exitCode, 0, 'the refreshed base is signed');
    // inputs and secrets as workflow_call passes them
    assert.deepEqual(call.inputs, { 'packages-snapshot': 'snap-123' });
    assert.deepEqual(call.secrets, ['PRIVATE_REPO_TOKEN']);
    const baseBuild = call.jobs.base.runs[0].steps.find((s) => /^Build once per platform/.test(s.name));
    assert.equal(baseBuild.env.PACKAGES_SNAPSHOT, 'snap-123', 'the snapshot reaches the base build');
    const serviceBuild = call.jobs.image.runs[0].steps.find((s) => /^Build once per platform/.test(s.name));
    assert.equal(serviceBuild.env.NPM_TOKEN, 'npm-token-for-the-build');
    for (const job of Object.values(call.jobs))
      for (const run of job.runs) for (const step of run.steps) assert.doesNotMatch(JSON.stringify(step.env ?? {}), /must-not-reach-publish/);
    assert.equal(call.jobs['k8s-images'].result, 'success', 'the override job follows the signing job');
  });
});
