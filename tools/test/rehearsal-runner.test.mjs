// The workflow rehearsal runner (tools/test/support/gha-rehearsal.mjs) on its own: expressions as GitHub evaluates them,
// file commands, matrices, a small job executed for real (no Docker), which steps of pr.yml's image job run for
// same-repository and fork PRs, what a failed gate or a failed SARIF report/upload stops in pr.yml and publish.yml,
// and publish.yml's branch/tag guard. The full rehearsal of pr.yml against a registry is
// tools/test/e2e/rehearsal.test.mjs.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import {
  evaluate,
  evaluateIf,
  expandMatrix,
  githubContext,
  loadWorkflow,
  parseAnnotations,
  parseFileCommands,
  render,
  RehearsalError,
  runJob,
  runJobs,
} from './support/gha-rehearsal.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('expressions', () => {
  const context = {
    github: { event: { pull_request: { head: { repo: { full_name: 'Acme/Shop' } } } }, repository: 'acme/shop' },
    env: { SAME: 'true', EMPTY: '' },
    steps: { matrix: { outputs: { matrix: '{"include":[{"project":"catalog"}]}', 'base-affected': 'false' }, outcome: 'success' } },
    needs: {},
  };
  test('comparisons: strings case-insensitive, loose coercion, && and || return operands', () => {
    assert.equal(evaluate('github.event.pull_request.head.repo.full_name == github.repository', context), true);
    assert.equal(evaluate("env.SAME == 'true'", context), true);
    assert.equal(evaluate("env.EMPTY != ''", context), false);
    assert.equal(evaluate('1 == true', context), true);
    assert.equal(evaluate("'' == 0", context), true);
    assert.equal(evaluate("null || 'fallback'", context), 'fallback');
    assert.equal(evaluate("env.SAME && 'yes'", context), 'yes');
    assert.equal(evaluate('!env.EMPTY', context), true);
    assert.equal(evaluate("steps.matrix.outputs['base-affected']", context), 'false');
    assert.equal(evaluate('steps.matrix.outputs.base-affected', context), 'false');
    assert.equal(evaluate('steps.nothing.outputs.x', context), null);
  });
  test('functions: fromJSON, toJSON, format, contains, startsWith, join', () => {
    assert.deepEqual(evaluate('fromJSON(steps.matrix.outputs.matrix)', context), { include: [{ project: 'catalog' }] });
    assert.equal(evaluate("format('image-{0}-{1}', 'a', 2)", context), 'image-a-2');
    assert.equal(evaluate("contains('Hello', 'ELL')", context), true);
    assert.equal(evaluate('contains(fromJSON(\'["a","b"]\'), \'B\')', context), true);
    assert.equal(evaluate("startsWith(github.repository, 'ACME/')", context), true);
    assert.equal(evaluate("join(fromJSON('[1,2]'), '+')", context), '1+2');
    assert.equal(evaluate('toJSON(fromJSON(\'{"a":1}\'))', context), '{\n  "a": 1\n}');
  });
  test('templates keep the type of a whole-string expression and stringify inside text', () => {
    assert.deepEqual(render('${{ fromJSON(steps.matrix.outputs.matrix) }}', context), { include: [{ project: 'catalog' }] });
    assert.equal(render('image-${{ 1 == 1 }}-${{ null }}', context), 'image-true-');
  });
  test('if: implicit success(), status functions, ${{ }} wrapper', () => {
    const ok = { ...context, __status: { failed: false, cancelled: false } };
    const failed = { ...context, __status: { failed: true, cancelled: false } };
    assert.equal(evaluateIf(undefined, ok), true);
    assert.equal(evaluateIf(undefined, failed), false);
    assert.equal(evaluateIf("env.SAME == 'true'", failed), false);
    assert.equal(evaluateIf("${{ !cancelled() && steps.matrix.outcome == 'success' }}", failed), true);
    assert.equal(evaluateIf('always()', failed), true);
    assert.equal(evaluateIf('failure()', failed), true);
  });
  test('errors: unknown context or function, bad syntax', () => {
    assert.throws(() => evaluate('nope.x', context), RehearsalError);
    assert.throws(() => evaluate("hashFiles('x')", context), /does not implement the function hashFiles/);
    assert.throws(() => evaluate('env.SAME ==', context), RehearsalError);
  });
});

describe('file commands, annotations, matrices', () => {
  test('GITHUB_OUTPUT / GITHUB_ENV syntax: name=value and heredoc blocks', () => {
    assert.deepEqual(parseFileCommands('a=1\nb<<EOF\nx=y\nline 2\nEOF\nc=has=equals\n'), { a: '1', b: 'x=y\nline 2', c: 'has=equals' });
    assert.throws(() => parseFileCommands('b<<EOF\nnever closed\n'), /never closes/);
  });
  test('workflow command annotations', () => {
    assert.deepEqual(parseAnnotations('x\n::notice title=Fork pull request::skipped\n::warning::w\n'), [
      { level: 'notice', title: 'Fork pull request', message: 'skipped' },
      { level: 'warning', title: undefined, message: 'w' },
    ]);
  });
  test('matrix: include-only, axes with exclude and include', () => {
    assert.deepEqual(expandMatrix({ include: [{ project: 'a' }, { project: 'b' }] }), [{ project: 'a' }, { project: 'b' }]);
    assert.deepEqual(expandMatrix({ os: ['x', 'y'], n: [1, 2], exclude: [{ os: 'y', n: 2 }], include: [{ os: 'x', extra: true }, { os: 'z' }] }), [
      { os: 'x', n: 1, extra: true },
      { os: 'x', n: 2, extra: true },
      { os: 'y', n: 1 },
      { os: 'z' },
    ]);
    assert.throws(() => expandMatrix({ include: [] }), /no combinations/);
  });
});

const canary = path.join(dir, 'injected');
const payload = {
  number: 7,
  pull_request: {
    number: 7,
    title: `pwn $(touch ${canary}) \`touch ${canary}\``,
    head: { ref: `x$(touch ${canary})`, repo: { full_name: 'acme/shop' } },
    base: { ref: 'main' },
  },
  repository: { full_name: 'acme/shop', default_branch: 'main' },
};

describe('running a job', () => {
  const workflow = YAML.parse(`
on: pull_request
env:
  WHERE: workflow
defaults:
  run:
    shell: bash
jobs:
  plan:
    runs-on: ubuntu-latest
    outputs:
      matrix: \${{ steps.m.outputs.matrix }}
    steps:
      - id: m
        run: |
          echo 'matrix={"include":[{"project":"a"},{"project":"b"}]}' >> "$GITHUB_OUTPUT"
          echo "FROM_ENV_FILE=set" >> "$GITHUB_ENV"
      - run: test "$FROM_ENV_FILE" = set
  build:
    needs: plan
    runs-on: ubuntu-latest
    strategy:
      matrix: \${{ fromJSON(needs.plan.outputs.matrix) }}
    env:
      PROJECT: \${{ matrix.project }}
      TITLE: \${{ github.event.pull_request.title }}
    steps:
      - uses: actions/checkout@0000000000000000000000000000000000000000
      - id: echo
        env:
          STEP: \${{ env.WHERE }}-\${{ matrix.project }}
        run: |
          echo "title: $TITLE"
          echo "::notice title=Hello::$PROJECT"
          { echo "value<<X"; echo "$STEP"; echo "$GITHUB_EVENT_NAME $GITHUB_REPOSITORY"; echo X; } >> "$GITHUB_OUTPUT"
          echo "### $PROJECT" >> "$GITHUB_STEP_SUMMARY"
      - name: fails on b
        run: test "$PROJECT" != b
      - name: after failure
        run: echo never
      - name: cleanup
        if: always()
        run: echo cleanup
`);
  const github = githubContext({ eventName: 'pull_request', payload, repository: 'acme/shop', sha: 'a'.repeat(40), ref: 'refs/pull/7/merge', workspace: dir });
  let done;
  const checkouts = [];

  test('jobs run in order; outputs, env files, matrix from needs, summaries, annotations, failures', async () => {
    done = await runJobs({
      workflow,
      jobs: ['plan', 'build'],
      github,
      payload,
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME },
      uses: { 'actions/checkout': ({ matrix }) => void checkouts.push(matrix.project) },
    });
    assert.equal(done.plan.result, 'success');
    assert.deepEqual(checkouts, ['a', 'b']);
    const [a, b] = done.build.runs;
    assert.equal(a.result, 'success');
    assert.equal(a.steps[1].outputs.value, 'workflow-a\npull_request acme/shop');
    assert.deepEqual(a.steps[1].annotations, [{ level: 'notice', title: 'Hello', message: 'a' }]);
    assert.equal(a.summary, '### a\n');
    assert.equal(b.result, 'failure');
    assert.deepEqual(
      b.steps.map((s) => `${s.name}:${s.outcome}`),
      [
        'actions/checkout@0000000000000000000000000000000000000000:success',
        `${b.steps[1].name}:success`,
        'fails on b:failure',
        'after failure:skipped',
        'cleanup:success',
      ],
    );
    assert.equal(done.build.result, 'failure');
  });

  test('untrusted PR text passed through env: is data, never code', () => {
    assert.match(done.build.runs[0].steps[1].output, /title: pwn \$\(touch /);
    assert.equal(existsSync(canary), false);
  });

  test('a substitute can add variables to the environment of what it runs; continue-on-error as an expression', async () => {
    const small = YAML.parse(`
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - uses: some/action@0000000000000000000000000000000000000000
        continue-on-error: \${{ 1 == 1 }}
      - run: echo after
`);
    const seen = [];
    const result = await runJob({
      workflow: small,
      jobId: 'one',
      github: githubContext({ eventName: 'push', payload: {}, repository: 'acme/shop', sha: 'a'.repeat(40), ref: 'refs/heads/main', workspace: dir }),
      eventPath: '/dev/null',
      baseEnv: { PATH: process.env.PATH },
      uses: {
        'some/action': async ({ exec }) => {
          const run = await exec('sh', ['-c', 'echo "$EXTRA"; exit 3'], { env: { EXTRA: 'from-the-substitute' } });
          seen.push(run.output.trim());
          return run;
        },
      },
    });
    assert.deepEqual(seen, ['from-the-substitute']);
    assert.deepEqual(
      result.steps.map((step) => `${step.outcome}/${step.conclusion}`),
      ['failure/success', 'success/success'],
    );
    assert.equal(result.result, 'success');
  });

  test('an action without a substitute is an error, not a skip', async () => {
    await assert.rejects(
      runJob({
        workflow,
        jobId: 'build',
        github,
        eventPath: '/dev/null',
        baseEnv: { PATH: process.env.PATH },
        matrix: { project: 'a' },
        needs: { plan: { result: 'success', outputs: {} } },
        uses: {},
      }),
      /no rehearsal substitute for uses: actions\/checkout@/,
    );
  });
});

describe('pr.yml image job: which steps run (conditions only)', () => {
  const workflow = loadWorkflow(path.join(workspaceRoot, '.github/workflows/pr.yml'));
  const noop = () => ({});
  const uses = Object.fromEntries(
    [
      'actions/checkout',
      'actions/setup-node',
      'docker/setup-buildx-action',
      'aquasecurity/setup-trivy',
      'github/codeql-action/upload-sarif',
      'docker/login-action',
      'actions/download-artifact',
      'actions/upload-artifact',
    ].map((a) => [a, noop]),
  );
  const PUBLISHING = [
    'Upload the SARIF report to code scanning',
    'Log in to the registry',
    'Push by digest (staging tag only; the PR tags come after the gate)',
    'Tag the scanned digest with the PR tags (in the registry; refuses a digest without a passing scan)',
    'Pushed image',
  ];
  const plan = (prPayload, jobId = 'image') => {
    const github = githubContext({
      eventName: 'pull_request',
      payload: prPayload,
      repository: 'Acme/Shop',
      sha: 'a'.repeat(40),
      ref: 'refs/pull/7/merge',
      workspace: dir,
    });
    return runJob({
      workflow,
      jobId,
      github,
      eventPath: '/dev/null',
      baseEnv: {},
      uses,
      dryRun: true,
      secrets: {},
      matrix: { project: 'catalog', image: 'ghcr.io/acme/shop/catalog' },
      needs: {
        plan: { result: 'success', outputs: { any: 'true', matrix: '{"include":[]}' } },
        base: { result: 'success', outputs: { ref: '', 'archive-sha256': '0'.repeat(64) } },
      },
    });
  };
  const ran = (result) => result.steps.filter((s) => s.ran).map((s) => s.name);
  const FORK_NOTICE = 'Fork or Dependabot pull request (nothing is pushed)';
  const forkPayload = { ...payload, pull_request: { ...payload.pull_request, head: { ref: 'f', repo: { full_name: 'someone/Shop' } } } };
  const samePayload = { ...payload, pull_request: { ...payload.pull_request, head: { ref: 'f', repo: { full_name: 'Acme/Shop' } } } };

  test('fork PR: built and gated (the local build); SARIF upload, login, push and tags skipped, with a notice', async () => {
    const names = ran(await plan(forkPayload));
    assert.ok(names.some((n) => /^Gate \(tools\/scan\.mjs/.test(n)));
    assert.ok(names.includes(FORK_NOTICE));
    assert.ok(names.includes('Building without npm_token'));
    for (const skipped of PUBLISHING) assert.equal(names.includes(skipped), false, skipped);
  });

  test('same-repository PR: upload, login, push by digest, tags and summary run; no fork notice', async () => {
    const names = ran(await plan(samePayload));
    for (const step of PUBLISHING) assert.ok(names.includes(step), step);
    assert.equal(names.includes(FORK_NOTICE), false);
  });

  test('Dependabot PR (same repository): handled like a fork, nothing is pushed or tagged', async () => {
    const dependabot = { ...samePayload, pull_request: { ...samePayload.pull_request, user: { login: 'dependabot[bot]' } } };
    const names = ran(await plan(dependabot));
    assert.ok(names.includes(FORK_NOTICE));
    for (const skipped of PUBLISHING) assert.equal(names.includes(skipped), false, skipped);
  });

  test('Dependabot and fork PRs: the base job (once per run) pushes nothing either and hands the gated base over as the checked artifact', async () => {
    const dependabot = { ...samePayload, pull_request: { ...samePayload.pull_request, user: { login: 'dependabot[bot]' } } };
    const ARCHIVE = [
      'Save the gated base image for the service jobs (fork and Dependabot PRs; compressed, sha256 as job output)',
      'Hand the base image over as a run artifact (fork and Dependabot PRs)',
    ];
    for (const [who, prPayload] of [
      ['Dependabot', dependabot],
      ['fork', forkPayload],
    ]) {
      const names = ran(await plan(prPayload, 'base'));
      assert.ok(
        names.some((n) => /^Gate \(tools\/scan\.mjs/.test(n)),
        who,
      );
      for (const step of ARCHIVE) assert.ok(names.includes(step), `${who}: ${step}`);
      for (const skipped of PUBLISHING) assert.equal(names.includes(skipped), false, `${who}: ${skipped}`);
    }
    const same = ran(await plan(samePayload, 'base'));
    for (const step of PUBLISHING) assert.ok(same.includes(step), `same-repository: ${step}`);
    for (const step of ARCHIVE) assert.equal(same.includes(step), false, `same-repository: ${step}`);
  });
});

// Conditions of the real workflows with every run: script replaced by a no-op and the actions by substitutes whose
// exit codes a test chooses: what a failed gate or a failed code-scanning step does to the push, signature and
// attestation steps (the e2e rehearsal runs the PR job for real; publish's image jobs cannot run here).
describe('gate and code scanning: which steps a failure stops (real conditions, no-op steps)', () => {
  const ACTIONS = [
    'actions/checkout',
    'actions/setup-node',
    'nrwl/nx-set-shas',
    'docker/setup-buildx-action',
    'aquasecurity/setup-trivy',
    'docker/login-action',
    'sigstore/cosign-installer',
    'actions/attest-build-provenance',
    'actions/upload-artifact',
    'actions/download-artifact',
  ];
  // For one image ("$PROJECT") or each image of a batch (for project in $PROJECTS; do ...).
  const GATE = /^(node tools\/scan\.mjs "\$PROJECT"|for project in \$PROJECTS; do node tools\/scan\.mjs "\$project"; done)$/;
  const REPORT = /^(for project in \$PROJECTS; do )?node tools\/scan\.mjs "\$(PROJECT|project)" --sarif /;
  const isGateStep = (step) => GATE.test(step.run?.trim() ?? '');
  const isReportStep = (step) => REPORT.test(step.run?.trim() ?? '');
  const isUploadStep = (step) => step.uses?.startsWith('github/codeql-action/upload-sarif@');
  // The build record upload hands the digest to the Kubernetes override (publish.yml k8s-images): it publishes too.
  const publishes = (step) =>
    /tools\/tag\.mjs|cosign (sign|attest)\b|image-record\.mjs ("\$PROJECT"|"\$project"|"\$\{projects\[@\]\}") --summary/.test(step.run ?? '') ||
    /^actions\/(attest-build-provenance|upload-artifact)@/.test(step.uses ?? '');

  async function rehearse(file, jobId, failing) {
    const workflow = loadWorkflow(path.join(workspaceRoot, '.github/workflows', file));
    const job = workflow.jobs[jobId];
    const uses = Object.fromEntries(ACTIONS.map((action) => [action, () => ({})]));
    const calls = [];
    uses['github/codeql-action/upload-sarif'] = ({ with: inputs }) => {
      calls.push({ action: 'upload', inputs });
      return { exitCode: failing === 'upload' ? 1 : 0 };
    };
    // Run scripts are not executed; the gate and the report exit as the test chooses (5: scan.mjs's findings code).
    const skipRuns = [
      { match: GATE, reason: 'the gate, with the exit code under test', exitCode: failing === 'gate' ? 5 : 0 },
      { match: REPORT, reason: 'the report, with the exit code under test', exitCode: failing === 'report' ? 1 : 0 },
      { match: /^/, reason: 'conditions only' },
    ];
    const prPayload = {
      ...payload,
      pull_request: { ...payload.pull_request, head: { ref: 'f', repo: { full_name: 'acme/shop' } } },
      repository: { full_name: 'acme/shop', private: false },
    };
    const github =
      file === 'pr.yml'
        ? githubContext({
            eventName: 'pull_request',
            payload: prPayload,
            repository: 'acme/shop',
            sha: 'a'.repeat(40),
            ref: 'refs/pull/7/merge',
            workspace: dir,
          })
        : githubContext({
            eventName: 'push',
            payload: { repository: { full_name: 'acme/shop', private: false } },
            repository: 'acme/shop',
            sha: 'a'.repeat(40),
            ref: 'refs/heads/main',
            workspace: dir,
          });
    const result = await runJob({
      workflow,
      jobId,
      github,
      eventPath: '/dev/null',
      baseEnv: { PATH: process.env.PATH },
      uses,
      skipRuns,
      secrets: {},
      matrix: jobId === 'base' ? null : { project: 'catalog', image: 'ghcr.io/acme/shop/catalog' },
      workflowEnv: { MATRIX_MAX_JOBS: '256' },
      needs: {
        plan: { result: 'success', outputs: { any: 'true', 'base-affected': 'true', matrix: '{"include":[]}' } },
        base: { result: 'success', outputs: { ref: 'ghcr.io/acme/shop/base-image@sha256:' + '0'.repeat(64) } },
      },
    });
    assert.equal(result.steps.length, job.steps.length);
    return { result, steps: job.steps.map((step, i) => ({ step, ran: result.steps[i].ran, conclusion: result.steps[i].conclusion })), calls };
  }

  const jobs = [
    ['pr.yml', 'base'],
    ['pr.yml', 'image'],
    ['publish.yml', 'base'],
    ['publish.yml', 'image'],
  ];
  for (const [file, jobId] of jobs) {
    test(`${file} ${jobId}: findings (a failed gate) stop every push, signature and attestation; the SARIF report still goes up`, async () => {
      const { result, steps, calls } = await rehearse(file, jobId, 'gate');
      assert.equal(result.result, 'failure');
      const gate = steps.findIndex(({ step }) => isGateStep(step));
      assert.equal(steps[gate].conclusion, 'failure');
      // Pushed by digest before the gate (staging tag only); nothing that names or vouches for it runs after findings.
      const publishing = steps.filter(({ step }) => publishes(step));
      assert.ok(publishing.length >= 2);
      for (const { step, ran } of publishing) assert.equal(ran, false, `'${step.name}' must not run after findings`);
      assert.ok(steps.find(({ step }) => isReportStep(step)).ran, 'the SARIF report is still written');
      assert.deepEqual(
        calls.map((c) => c.action),
        ['upload'],
      );
    });

    for (const failing of ['report', 'upload']) {
      test(`${file} ${jobId}: a failed SARIF ${failing} does not stop the push, signature or attestation`, async () => {
        const { result, steps } = await rehearse(file, jobId, failing);
        assert.equal(result.result, 'success');
        // The same publishing steps run as when nothing fails (steps for the other case, fork or batch, stay skipped).
        const baseline = (await rehearse(file, jobId, 'nothing')).steps;
        const publishing = steps.map((entry, index) => ({ ...entry, index })).filter(({ step }) => publishes(step));
        assert.ok(publishing.filter(({ ran }) => ran).length >= 2);
        for (const { step, ran, conclusion, index } of publishing) {
          const expected = baseline[index].ran;
          assert.equal(ran, expected, `'${step.name}' ${expected ? 'runs' : 'is skipped'} as without a failure`);
          if (ran) assert.equal(conclusion, 'success', step.name);
        }
        const failed = steps.find(({ step }) => (failing === 'report' ? isReportStep(step) : isUploadStep(step)));
        assert.equal(failed.conclusion, 'success', 'continue-on-error');
      });
    }
  }
});

describe('publish.yml: publishes only from main or a v* tag (plan guard), manual runs included', () => {
  const workflow = loadWorkflow(path.join(workspaceRoot, '.github/workflows/publish.yml'));
  const uses = Object.fromEntries(['actions/checkout', 'actions/setup-node', 'nrwl/nx-set-shas'].map((a) => [a, () => ({})]));
  const cases = [
    ['push', 'refs/heads/main', 'success'],
    ['push', 'refs/tags/v1.2.3', 'success'],
    ['workflow_dispatch', 'refs/heads/main', 'success'],
    ['workflow_dispatch', 'refs/tags/v2.0.0', 'success'],
    ['workflow_dispatch', 'refs/heads/feature/x', 'skipped'],
    ['workflow_dispatch', 'refs/tags/nightly', 'skipped'],
    ['workflow_dispatch', 'refs/heads/mainline', 'skipped'],
  ];
  for (const [eventName, ref, expected] of cases) {
    test(`${eventName} ${ref}: plan ${expected}${expected === 'skipped' ? ', and base and image with it' : ''}`, async () => {
      const eventPayload = { ref, repository: { full_name: 'acme/shop', private: false } };
      const github = githubContext({ eventName, payload: eventPayload, repository: 'acme/shop', sha: 'a'.repeat(40), ref, workspace: dir });
      const done = await runJobs({
        workflow,
        jobs: expected === 'skipped' ? ['plan', 'base', 'image'] : ['plan'],
        github,
        payload: eventPayload,
        baseEnv: {},
        uses,
        dryRun: true,
      });
      assert.equal(done.plan.result, expected);
      if (expected === 'skipped') {
        assert.equal(done.base.result, 'skipped');
        assert.equal(done.image.result, 'skipped');
      }
    });
  }
});

describe('workflow_call: a called workflow runs with the caller github context, its own ref apart, passed secrets only', () => {
  const callDir = mkdtempSync(path.join(os.tmpdir(), 'rehearsal-call-'));
  after(() => rmSync(callDir, { recursive: true, force: true }));
  const called = `
on:
  workflow_call:
    inputs:
      snapshot: { type: string, required: false, default: "" }
      level: { type: string, required: false, default: low }
    secrets:
      TOKEN: { required: false }
jobs:
  show:
    runs-on: ubuntu-latest
    env:
      SNAPSHOT: \${{ inputs.snapshot }}
      LEVEL: \${{ inputs.level }}
      TOKEN: \${{ secrets.TOKEN }}
      OTHER: \${{ secrets.OTHER }}
    steps:
      - uses: acme/whoami@0000000000000000000000000000000000000000
      - run: echo "$GITHUB_WORKFLOW_REF $SNAPSHOT $LEVEL token=\${#TOKEN} other=\${#OTHER}"
`;
  const caller = (secrets) => `
on: schedule
jobs:
  check:
    runs-on: ubuntu-latest
    outputs:
      snapshot: abc
    steps:
      - run: "true"
  call:
    needs: check
    uses: ./.github/workflows/called.yml
    with:
      snapshot: \${{ needs.check.outputs.snapshot }}
    secrets: ${secrets}
`;
  const run = async (secrets) => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(path.join(callDir, '.github/workflows'), { recursive: true });
    writeFileSync(path.join(callDir, '.github/workflows/called.yml'), called);
    const github = githubContext({
      eventName: 'schedule',
      payload: {},
      repository: 'acme/shop',
      sha: 'b'.repeat(40),
      ref: 'refs/heads/main',
      workspace: callDir,
      workflowFile: '.github/workflows/caller.yml',
    });
    const claims = [];
    const done = await runJobs({
      workflow: YAML.parse(caller(secrets)),
      jobs: ['check', 'call'],
      github,
      payload: {},
      baseEnv: { PATH: process.env.PATH },
      secrets: { TOKEN: 'passed-token', OTHER: 'not-passed' },
      uses: { 'acme/whoami': ({ jobWorkflowRef }) => (claims.push(jobWorkflowRef), {}) },
    });
    return { done, claims, show: done.call.called.jobs.show.runs[0] };
  };

  test('github context and GITHUB_WORKFLOW_REF are the caller; job_workflow_ref is the called file at the caller ref', async () => {
    const { done, claims, show } = await run('\n      TOKEN: ${{ secrets.TOKEN }}');
    assert.equal(done.call.result, 'success');
    assert.deepEqual(claims, ['acme/shop/.github/workflows/called.yml@refs/heads/main']);
    assert.equal(done.call.called.jobWorkflowRef, 'acme/shop/.github/workflows/called.yml@refs/heads/main');
    assert.match(show.steps[1].output, /^acme\/shop\/\.github\/workflows\/caller\.yml@refs\/heads\/main abc low token=12 other=0$/m);
  });

  test('inputs: the caller with: over the declared defaults; secrets: only the named ones (inherit passes all)', async () => {
    const named = await run('\n      TOKEN: ${{ secrets.TOKEN }}');
    assert.deepEqual(named.done.call.called.inputs, { snapshot: 'abc', level: 'low' });
    assert.deepEqual(named.done.call.called.secrets, ['TOKEN']);
    const inherit = await run('inherit');
    assert.match(inherit.show.steps[1].output, /token=12 other=10$/m, 'counter-example: inherit hands over every secret');
  });

  test('a secret the called workflow does not declare is an error, as on GitHub', async () => {
    await assert.rejects(run('\n      OTHER: ${{ secrets.OTHER }}'), /declares no secret 'OTHER'/);
  });
});
