// Rehearsals of the workflows. pr.yml: the `plan` job and then the `image` job's steps, in order, with a GitHub-like
// environment (pull_request payload file, GITHUB_OUTPUT/GITHUB_ENV/GITHUB_STEP_SUMMARY files, GITHUB_* variables),
// the matrix taken from the plan job's output, against a real registry on 127.0.0.1 (Debian's docker-registry).
// It runs in a throwaway copy of the working tree with a two-commit history (main + a PR branch changing catalog),
// so nx affected has a real range and the real dist/docker records and image tags are left alone.
//
// What stands in for the `uses:` steps: checkout/setup-node/login -> nothing (the copy is the checkout, node_modules
// is linked, the local registry needs no login); nx-set-shas -> `git merge-base main HEAD` into NX_BASE/NX_HEAD;
// setup-buildx (driver: docker) -> the engine's own BuildKit, which also builds into the local image store;
// trivy-action -> `node tools/scan.mjs <project> --ref <image-ref> --allow-missing-scanner` (Trivy cannot be
// installed here: the gate says so in one line); upload-sarif -> recorded, not uploaded. `npm ci` is not executed.
// publish.yml: the `plan` job for a push to main, a release tag and a manual run (which images get published).
// REHEARSAL_VERBOSE=1 streams the job log to stderr.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, appendFileSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../lib/docker-engine.mjs';
import { githubContext, loadWorkflow, runJobs } from '../../lib/gha-rehearsal.mjs';
import { startLocalRegistry } from '../../lib/local-registry.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';

const REPOSITORY = 'Acme-Org/Shop-Repo'; // capitals on purpose: image names must come out lower-cased
const PR_NUMBER = 42;
const IMAGE_PREFIX = `rehearsal-${process.pid}`; // local build names, so secure-ci/*:local stay untouched

const git = (cwd, ...args) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The working tree (tracked and untracked, not ignored) copied into a fresh repo: main, then a PR branch. */
function copyWorkspace() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-ws-'));
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: workspaceRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of listed) {
    const source = path.join(workspaceRoot, file);
    if (!existsSync(source) || lstatSync(source).isDirectory()) continue;
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    cpSync(source, path.join(dir, file));
  }
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules'));
  // Where upstream images cannot be pulled, the offline equivalents tools/bases.mjs bootstrapped are used.
  const bases = path.join(workspaceRoot, 'dist/docker/bases.json');
  if (existsSync(bases)) {
    mkdirSync(path.join(dir, 'dist/docker'), { recursive: true });
    cpSync(bases, path.join(dir, 'dist/docker/bases.json'));
  }
  git(dir, 'init', '-q', '-b', 'main');
  appendFileSync(path.join(dir, '.git/info/exclude'), 'node_modules\n');
  for (const [key, value] of [['user.name', 'rehearsal'], ['user.email', 'rehearsal@example.invalid'], ['commit.gpgsign', 'false']]) git(dir, 'config', key, value);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  const baseSha = git(dir, 'rev-parse', 'HEAD');
  git(dir, 'checkout', '-q', '-b', 'feature/rehearsal');
  appendFileSync(path.join(dir, 'apps/catalog/src/main.ts'), '\n// rehearsal: a change to the catalog service only\n');
  git(dir, 'commit', '-q', '-am', 'catalog: a change');
  return { dir, baseSha, headSha: git(dir, 'rev-parse', 'HEAD') };
}

/** The runner machine's environment, without whatever GitHub Actions context the host process itself has. */
function runnerBaseEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(GITHUB_|RUNNER_|ACTIONS_|NX_BASE$|NX_HEAD$|IMAGE_PREFIX$)/.test(key)));
  return { ...env, IMAGE_PREFIX, NX_DAEMON: 'false' };
}

async function registryJson(host, pathname, accept) {
  const response = await fetch(`http://${host}${pathname}`, { headers: accept ? { Accept: accept } : {} });
  assert.equal(response.status, 200, `GET ${pathname}`);
  return response.json();
}

describe('rehearsal of pr.yml: plan -> image (catalog) -> local registry', () => {
  let registry;
  let workspace;
  let done;
  let imageRun;
  const uploads = [];
  const log = [];
  const canary = path.join(os.tmpdir(), `rehearsal-injected-${process.pid}`);

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
    workspace = copyWorkspace();
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
    done = await runJobs({
      workflow,
      jobs: ['plan', 'image'],
      github,
      payload,
      baseEnv: runnerBaseEnv(),
      workflowEnv: { REGISTRY: registry.host },
      secrets: { PRIVATE_REPO_TOKEN: '' },
      skipRuns: [{ match: /^npm ci\b/, reason: 'dependencies are linked from the checkout (node_modules)' }],
      log: (text) => (log.push(text), process.env.REHEARSAL_VERBOSE && process.stderr.write(text)),
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
        'aquasecurity/trivy-action': async ({ with: inputs, matrix, exec }) => {
          const args = ['tools/scan.mjs', matrix.project, '--ref', inputs['image-ref'], '--allow-missing-scanner'];
          if (inputs.format === 'sarif') args.push('--sarif', inputs.output);
          return exec(process.execPath, args);
        },
        'github/codeql-action/upload-sarif': ({ with: inputs }) => {
          uploads.push(inputs);
          return { note: `SARIF ${inputs.sarif_file} not uploaded (category ${inputs.category})` };
        },
        'docker/login-action': ({ with: inputs }) => {
          assert.equal(inputs.registry, registry.host);
          return { note: 'the local registry needs no login' };
        },
      },
    });
    imageRun = done.image?.runs?.[0];
  }

  after(async () => {
    await registry?.stop();
    if (workspace) {
      const records = path.join(workspace.dir, 'dist/docker');
      const refs = new Set();
      for (const file of existsSync(records) ? readdirSync(records) : []) {
        const record = JSON.parse(readFileSync(path.join(records, file), 'utf8'));
        for (const ref of [...(record.tags ?? []), ...(record.pushed?.tags ?? [])]) refs.add(ref);
      }
      for (const ref of refs) await docker(['image', 'rm', ref], { reject: false });
      rmSync(workspace.dir, { recursive: true, force: true });
    }
    rmSync(canary, { force: true });
  });

  const failureReport = () => log.join('').slice(-4000);

  test('plan: the matrix comes from tools/affected-matrix.mjs and holds only the changed service, lower-cased', () => {
    ready();
    assert.equal(done.plan.result, 'success', failureReport());
    assert.equal(done.plan.outputs.any, 'true');
    const matrix = JSON.parse(done.plan.outputs.matrix);
    assert.deepEqual(
      matrix.include.map(({ project, image }) => ({ project, image })),
      [{ project: 'catalog', image: `${registry.host}/acme-org/shop-repo/catalog` }],
    );
  });

  test('image: every step ran in order and succeeded (fork notice skipped for a same-repository PR)', () => {
    ready();
    assert.equal(done.image.runs.length, 1);
    assert.equal(imageRun.result, 'success', failureReport());
    const skipped = imageRun.steps.filter((s) => !s.ran).map((s) => s.name);
    assert.deepEqual(skipped, ['Fork pull request (no secrets, read-only token)']);
    assert.ok(imageRun.steps.every((s) => !s.ran || s.outcome === 'success'));
  });

  test('without PRIVATE_REPO_TOKEN the build goes on without npm_token, and says so', () => {
    ready();
    const notices = imageRun.steps.flatMap((s) => s.annotations ?? []);
    assert.ok(notices.some((a) => a.level === 'notice' && a.title === 'No npm_token'), JSON.stringify(notices));
    const build = imageRun.steps.find((s) => s.name === 'Build the service image');
    assert.match(build.output, /secret 'npm_token' not passed: environment variable NPM_TOKEN is empty/);
  });

  test('the Trivy gate ran before the push and said in one line that trivy is not installed', () => {
    ready();
    const names = imageRun.steps.map((s) => s.name);
    const gate = imageRun.steps.find((s) => s.name.startsWith('Trivy gate'));
    assert.match(gate.output, /^scan: SKIPPED catalog: trivy is not installed/m);
    assert.equal(gate.output.split('\n').filter((line) => /trivy/i.test(line)).length, 1, gate.output);
    assert.ok(names.indexOf(gate.name) < names.indexOf('Push the PR tags (after the gate)'));
    assert.deepEqual(uploads.map((u) => u.category), ['image-catalog']);
  });

  test('the registry has the PR tags (pr-N, sha-<head>) of the lower-cased repository', async () => {
    ready();
    const tags = await registry.tags('acme-org/shop-repo/catalog');
    assert.ok(tags.includes(`pr-${PR_NUMBER}`), `tags: ${tags}`);
    assert.ok(tags.includes(`sha-${workspace.headSha.slice(0, 7)}`), `tags: ${tags}`);
  });

  test('GITHUB_OUTPUT and the step summary carry what the workflow reads: ref to scan, image, digest, tags', async () => {
    ready();
    const built = imageRun.steps.find((s) => s.id === 'built');
    assert.equal(built.outputs.ref, `${IMAGE_PREFIX}/catalog:local`);
    const pushed = imageRun.steps.find((s) => s.id === 'pushed').outputs;
    const image = `${registry.host}/acme-org/shop-repo/catalog`;
    assert.equal(pushed.image, image);
    assert.match(pushed.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(pushed['digest-ref'], `${image}@${pushed.digest}`);
    assert.deepEqual(pushed.tags.split('\n').sort(), [`${image}:pr-${PR_NUMBER}`, `${image}:sha-${workspace.headSha.slice(0, 7)}`].sort());
    assert.match(imageRun.summary, /### Image catalog/);
    assert.ok(imageRun.summary.includes(pushed.digest) && imageRun.summary.includes(`${image}:pr-${PR_NUMBER}`), imageRun.summary);
    // The digest in the outputs is the manifest the registry serves, and its config is the built image.
    const manifest = await registryJson(registry.host, `/v2/acme-org/shop-repo/catalog/manifests/${pushed.digest}`, 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json');
    const config = await registryJson(registry.host, `/v2/acme-org/shop-repo/catalog/blobs/${manifest.config.digest}`);
    assert.equal(config.config.User, '65532:65532');
    assert.equal(config.config.Labels['org.opencontainers.image.revision'], workspace.headSha);
  });

  test('the PR title and branch name (untrusted) were never executed', () => {
    ready();
    assert.equal(existsSync(canary), false);
  });
});

describe('rehearsal of publish.yml plan: which images a push to main, a release tag and a manual run publish', () => {
  let workspace;
  let workflow;
  before(() => {
    workspace = copyWorkspace();
    workflow = loadWorkflow(path.join(workspace.dir, '.github/workflows/publish.yml'));
  });
  after(() => workspace && rmSync(workspace.dir, { recursive: true, force: true }));

  const plan = async (eventName, ref) => {
    const payload = { ref, repository: { full_name: REPOSITORY, default_branch: 'main', private: false }, sender: { login: 'rehearsal' } };
    const github = githubContext({ eventName, payload, repository: REPOSITORY, sha: workspace.headSha, ref, workspace: workspace.dir, workflow: workflow.name, workflowFile: '.github/workflows/publish.yml' });
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
    assert.equal(done.plan.result, 'success', log.join('').slice(-3000));
    return { outputs: done.plan.outputs, setShas, projects: JSON.parse(done.plan.outputs.matrix).include.map((entry) => entry.project) };
  };

  test('push to main: the services affected since the last successful publish (nx-set-shas range)', async () => {
    const { outputs, setShas, projects } = await plan('push', 'refs/heads/main');
    assert.deepEqual(projects, ['catalog']);
    assert.equal(outputs['base-affected'], 'false');
    assert.equal(setShas.length, 1);
    assert.equal(setShas[0]['fallback-sha'], '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
  });

  for (const [eventName, ref] of [['push', 'refs/tags/v1.2.3'], ['workflow_dispatch', 'refs/heads/main']]) {
    test(`${eventName} ${ref}: every service and the base image`, async () => {
      const { outputs, setShas, projects } = await plan(eventName, ref);
      assert.deepEqual(projects, ['catalog', 'notifications', 'orders']);
      assert.equal(outputs['base-affected'], 'true');
      assert.equal(outputs.any, 'true');
      assert.equal(setShas.length, 0, 'nx-set-shas is not consulted');
      assert.match(JSON.parse(outputs.matrix).include[0].image, /^ghcr\.io\/acme-org\/shop-repo\/catalog$/);
    });
  }
});
