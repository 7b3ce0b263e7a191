#!/usr/bin/env node
// Releases come only from the default branch's history. publish.yml's plan job runs this before anything is built:
// a push to the default branch passes; a v* tag passes only when its commit is on the default branch's history (so a
// tag on an unreviewed branch commit cannot publish and sign it); any other ref is refused. One line either way.
//
// Usage: node tools/release-guard.mjs [--ref REF] [--sha SHA] [--default-branch NAME] [--remote NAME]
//   defaults: GITHUB_REF, GITHUB_SHA (else the ref's commit), the event payload's repository.default_branch (else
//   main), origin. The checkout needs the default branch's history (actions/checkout with fetch-depth: 0).
import { existsSync, readFileSync } from 'node:fs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { $ } from './lib/process.mjs';

const short = (sha) => sha.slice(0, 12);

/** The default branch from the event payload (GITHUB_EVENT_PATH), else 'main'. */
function defaultBranchOf(env) {
  if (!env.GITHUB_EVENT_PATH || !existsSync(env.GITHUB_EVENT_PATH)) return 'main';
  try {
    return JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')).repository?.default_branch || 'main';
  } catch {
    fail(`${env.GITHUB_EVENT_PATH} is not valid JSON`);
  }
}

/**
 * Checks that `ref` may publish; returns the line to print. Throws a one-line CliError (exit 1) when it may not.
 * @param {{ref?: string, sha?: string, defaultBranch?: string, remote?: string, cwd?: string, env?: object}} options
 */
export async function releaseGuard({ ref, sha, defaultBranch, remote = 'origin', cwd = process.cwd(), env = process.env } = {}) {
  ref ??= env.GITHUB_REF;
  if (!ref) fail('no ref to check: pass --ref or set GITHUB_REF');
  defaultBranch ??= defaultBranchOf(env);
  const git = (...args) => $({ cwd, nothrow: true })`git ${args}`;
  if (ref === `refs/heads/${defaultBranch}`) return `release-guard: ${ref} is the default branch`;
  const tag = /^refs\/tags\/(v.+)$/.exec(ref)?.[1];
  if (!tag) fail(`refusing to publish ${ref}: releases come from ${defaultBranch} or a v* tag`, 1);
  sha ??= env.GITHUB_SHA || (await git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`)).stdout.trim();
  if (!/^[0-9a-f]{40}$/.test(sha ?? '')) fail(`refusing to publish ${tag}: cannot tell its commit (no GITHUB_SHA and no ${ref} in this checkout)`, 1);
  const branch = `refs/remotes/${remote}/${defaultBranch}`;
  if ((await git('rev-parse', '--verify', '--quiet', `${branch}^{commit}`)).exitCode !== 0)
    fail(`refusing to publish ${tag}: this checkout has no ${remote}/${defaultBranch} to compare with (check out with fetch-depth: 0)`, 1);
  const onBranch = await git('merge-base', '--is-ancestor', sha, branch);
  if (onBranch.exitCode === 1) fail(`refusing to publish ${tag}: its commit ${short(sha)} is not on ${defaultBranch}'s history`, 1);
  if (onBranch.exitCode !== 0) fail(`refusing to publish ${tag}: git cannot compare ${short(sha)} with ${remote}/${defaultBranch} (fetch the full history)`, 1);
  return `release-guard: ${tag} (${short(sha)}) is on ${defaultBranch}'s history`;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseCliArgs({
      options: { ref: { type: 'string' }, sha: { type: 'string' }, 'default-branch': { type: 'string' }, remote: { type: 'string' } },
    });
    console.log(await releaseGuard({ ref: values.ref, sha: values.sha, defaultBranch: values['default-branch'], remote: values.remote }));
  });
}
