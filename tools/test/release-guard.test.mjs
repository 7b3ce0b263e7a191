// Releases only from the default branch (tools/release-guard.mjs, on a throwaway git repository with a remote), and
// the signing identity publish.yml signs and verifies with (tools/signing-identity.mjs), right in a direct run and
// when refresh.yml calls publish.yml (workflow_call: GITHUB_WORKFLOW_REF names the caller).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { workspaceRoot } from '../lib/workspace.mjs';
import { releaseIdentityRegexp, signingIdentity } from '../signing-identity.mjs';
import { assertOneLineError, gitIn, runTool } from './support/run-tool.mjs';

const GUARD = path.join(workspaceRoot, 'tools/release-guard.mjs');
const IDENTITY = path.join(workspaceRoot, 'tools/signing-identity.mjs');
const cleanEnv = (extra) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(GITHUB_|RUNNER_)/.test(key))),
  ...extra,
});

describe('release-guard: a v* tag publishes only a commit on the default branch', () => {
  let dir;
  let shas;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'release-guard-'));
    const upstream = path.join(dir, 'upstream');
    const clone = path.join(dir, 'clone');
    const git = (cwd) => gitIn(cwd);
    git(dir)('init', '-q', '-b', 'main', upstream);
    for (const [key, value] of [
      ['user.name', 'test'],
      ['user.email', 'test@example.invalid'],
      ['commit.gpgsign', 'false'],
    ])
      git(upstream)('config', key, value);
    git(upstream)('commit', '-q', '--allow-empty', '-m', 'reviewed');
    const reviewed = git(upstream)('rev-parse', 'HEAD');
    git(upstream)('tag', 'v1.0.0');
    git(upstream)('checkout', '-q', '-b', 'unreviewed');
    git(upstream)('commit', '-q', '--allow-empty', '-m', 'not reviewed');
    const unreviewed = git(upstream)('rev-parse', 'HEAD');
    git(upstream)('tag', 'v9.9.9');
    git(upstream)('checkout', '-q', 'main');
    // what actions/checkout with fetch-depth: 0 leaves: every branch as refs/remotes/origin/*, every tag
    git(dir)('clone', '-q', '--no-checkout', upstream, clone);
    shas = { reviewed, unreviewed, clone };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const guard = (env, args = []) => runTool(GUARD, args, { cwd: shas.clone, env: cleanEnv(env) });

  test('a push to the default branch passes', () => {
    const ok = guard({ GITHUB_REF: 'refs/heads/main', GITHUB_SHA: shas.reviewed });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /refs\/heads\/main is the default branch/);
  });

  test("a v* tag on main's history passes", () => {
    const ok = guard({ GITHUB_REF: 'refs/tags/v1.0.0', GITHUB_SHA: shas.reviewed });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /v1\.0\.0 \(\w{12}\) is on main's history/);
  });

  test('a v* tag on an unreviewed branch commit stops with one line', () => {
    assertOneLineError(guard({ GITHUB_REF: 'refs/tags/v9.9.9', GITHUB_SHA: shas.unreviewed }), {
      tool: 'release-guard',
      code: 1,
      message: /refusing to publish v9\.9\.9: its commit \w{12} is not on main's history/,
    });
    // the same without GITHUB_SHA: the tag's commit from the checkout
    assertOneLineError(guard({ GITHUB_REF: 'refs/tags/v9.9.9' }), { tool: 'release-guard', code: 1, message: /not on main's history/ });
  });

  test('the default branch comes from the event payload', () => {
    const event = path.join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ repository: { default_branch: 'unreviewed' } }));
    const ok = guard({ GITHUB_REF: 'refs/tags/v9.9.9', GITHUB_SHA: shas.unreviewed, GITHUB_EVENT_PATH: event });
    assert.equal(ok.status, 0, ok.stderr);
    assertOneLineError(guard({ GITHUB_REF: 'refs/heads/main', GITHUB_SHA: shas.reviewed, GITHUB_EVENT_PATH: event }), {
      tool: 'release-guard',
      code: 1,
      message: /refusing to publish refs\/heads\/main: releases come from unreviewed or a v\* tag/,
    });
  });

  test('other refs, a shallow checkout and bad input are refused in one line', () => {
    assertOneLineError(guard({ GITHUB_REF: 'refs/heads/feature', GITHUB_SHA: shas.reviewed }), {
      tool: 'release-guard',
      code: 1,
      message: /releases come from main/,
    });
    assertOneLineError(guard({ GITHUB_REF: 'refs/tags/v1.0.0', GITHUB_SHA: shas.reviewed }, ['--remote', 'nowhere']), {
      tool: 'release-guard',
      code: 1,
      message: /no nowhere\/main to compare with \(check out with fetch-depth: 0\)/,
    });
    assertOneLineError(guard({}), { tool: 'release-guard', code: 2, message: /no ref to check/ });
    assertOneLineError(guard({ GITHUB_REF: 'refs/heads/main' }, ['--nope']), { tool: 'release-guard', code: 2, message: /unknown flag --nope/ });
  });
});

describe('signing-identity: the called workflow, in direct and called runs', () => {
  const base = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'Acme-Org/Shop-Repo', GITHUB_REF: 'refs/heads/main' };
  const expected = 'https://github.com/Acme-Org/Shop-Repo/.github/workflows/publish.yml@refs/heads/main';

  test('a direct run of publish.yml: the identity is its own workflow ref', () => {
    const env = { ...base, GITHUB_WORKFLOW_REF: 'Acme-Org/Shop-Repo/.github/workflows/publish.yml@refs/heads/main' };
    assert.equal(signingIdentity({ env }), expected);
    assert.equal(`${env.GITHUB_SERVER_URL}/${env.GITHUB_WORKFLOW_REF}`, expected, 'the same as the old formula, in a direct run');
  });

  test('refresh.yml calling publish.yml: the identity is publish.yml, not the caller GITHUB_WORKFLOW_REF names', () => {
    const env = { ...base, GITHUB_WORKFLOW_REF: 'Acme-Org/Shop-Repo/.github/workflows/refresh.yml@refs/heads/main' };
    assert.equal(signingIdentity({ env }), expected);
    // counter-example: the formula publish.yml used before names the caller, which Fulcio's certificate does not
    assert.notEqual(`${env.GITHUB_SERVER_URL}/${env.GITHUB_WORKFLOW_REF}`, expected);
  });

  test('a release tag; the OIDC claim job_workflow_ref wins when given', () => {
    assert.equal(
      signingIdentity({ env: { ...base, GITHUB_REF: 'refs/tags/v1.2.3' } }),
      'https://github.com/Acme-Org/Shop-Repo/.github/workflows/publish.yml@refs/tags/v1.2.3',
    );
    assert.equal(signingIdentity({ env: base, jobWorkflowRef: 'Acme-Org/Shop-Repo/.github/workflows/publish.yml@refs/heads/main' }), expected);
  });

  test('the CLI writes identity and issuer as step outputs', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'signing-identity-'));
    try {
      const output = path.join(dir, 'output');
      writeFileSync(output, '');
      const result = runTool(IDENTITY, ['--github-output'], { env: cleanEnv({ ...base, GITHUB_OUTPUT: output }) });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trim(), expected);
      assert.equal(readFileSync(output, 'utf8'), `identity=${expected}\nissuer=https://token.actions.githubusercontent.com\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad context: one line, non-zero', () => {
    for (const [env, message] of [
      [{ ...base, GITHUB_REF: 'refs/pull/7/merge' }, /GITHUB_REF 'refs\/pull\/7\/merge' is not a branch or tag ref/],
      [{ ...base, GITHUB_SERVER_URL: 'http://x' }, /GITHUB_SERVER_URL/],
      [{ ...base, GITHUB_REPOSITORY: '' }, /GITHUB_REPOSITORY/],
      [{ ...base, GITHUB_WORKFLOW_REF: 'Acme-Org/Shop-Repo/.github/workflows/publish.yml@refs/heads/other' }, /disagrees with GITHUB_REF/],
    ])
      assertOneLineError(runTool(IDENTITY, [], { env: cleanEnv(env) }), { tool: 'signing-identity', code: /disagrees/.test(String(message)) ? 1 : 2, message });
    assertOneLineError(runTool(IDENTITY, ['--job-workflow-ref', 'evil'], { env: cleanEnv(base) }), { tool: 'signing-identity', message: /is not <owner>/ });
  });

  test('the documented verify regexp is anchored: publish.yml on main or a vX.Y.Z tag of this repository only', () => {
    const regexp = new RegExp(releaseIdentityRegexp({ repository: 'acme/shop' }));
    assert.ok(regexp.test('https://github.com/acme/shop/.github/workflows/publish.yml@refs/heads/main'));
    assert.ok(regexp.test('https://github.com/acme/shop/.github/workflows/publish.yml@refs/tags/v1.2.3'));
    for (const other of [
      'https://github.com/acme/shop/.github/workflows/publish.yml@refs/heads/feature',
      'https://github.com/acme/shop/.github/workflows/publish.yml@refs/tags/v1.2.3-evil/x',
      'https://github.com/acme/shop/.github/workflows/publish.yml@refs/tags/vanity',
      'https://github.com/acme/shop/.github/workflows/pr.yml@refs/heads/main',
      'https://github.com/acme/shopx/.github/workflows/publish.yml@refs/heads/main',
      'https://github.com/evil/x/.github/workflows/publish.yml@refs/heads/main?https://github.com/acme/shop/.github/workflows/publish.yml@refs/heads/main',
    ])
      assert.equal(regexp.test(other), false, other);
  });
});
