#!/usr/bin/env node
// The README's test command: every suite in dependency order, then one closing line with the totals.
//   workspace  the format check (prettier), then lint, typecheck, unit tests and builds of every Nx project (tools'
//              own unit tests included)
//   images     offline bases if needed, `nx run-many -t docker-build`, then the image tests beside each recipe
//   e2e        what needs built images: workflow rehearsal, registry round trip, compose stack
//   stores     the image-identity tests (the pipeline round trip: build records, push by digest, per-platform gate,
//              registry-side tags) again on a second engine with the other image store
//              (classic <-> containerd). Tests cannot start a user's second engine: this suite runs where
//              SECURE_CI_OTHER_ENGINE is its DOCKER_HOST (.ci/run starts one and sets it), and otherwise says so.
// Usage: node tools/test.mjs [workspace|images|e2e|stores]...   (default: all, in that order)
import { stripVTControlCharacters } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fail, runMain } from './lib/cli.mjs';
import { $, streamLines } from './lib/process.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

const testFiles = (...dirs) =>
  dirs.flatMap((dir) => {
    const abs = path.join(workspaceRoot, dir);
    return existsSync(abs)
      ? readdirSync(abs)
          .filter((f) => f.endsWith('.test.mjs'))
          .sort()
          .map((f) => path.join(dir, f))
      : [];
  });

const nodeTest = (files) => ['node', ['--test', '--test-concurrency=1', ...files]];

const SUITES = {
  workspace: () => [
    ['npx', ['prettier', '--check', '.']],
    ['npx', ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', 'build', '--outputStyle=static']],
  ],
  images: () => [
    // trixie stand-ins (the default) plus bookworm, which the base image tests build through its one build arg
    ['node', ['tools/bases.mjs', '--suite', 'bookworm']],
    ['npx', ['nx', 'run-many', '-t', 'docker-build', '--outputStyle=static']],
    nodeTest(testFiles('docker/base/test', 'docker/service/test')),
  ],
  e2e: () => [nodeTest(testFiles('tools/test/e2e'))],
  stores: () => [
    ['node', ['tools/test/support/other-store.mjs']],
    [...nodeTest(IDENTITY_TESTS), { env: { DOCKER_HOST: process.env.SECURE_CI_OTHER_ENGINE } }],
  ],
};
// The tests whose assertions depend on what an image ID or digest is, which the image store changes: the pipeline
// round trip (build records, push by digest, the per-platform gate, registry-side tags, pull back by digest). The PR
// and publish rehearsals pass on the classic store too (tools/test/e2e/rehearsal.test.mjs with DOCKER_HOST set to
// it), but they are left out of every CI run: CI's 90-minute budget, see README.
const IDENTITY_TESTS = ['tools/test/e2e/pipeline.test.mjs'];
/** The suites run when none is named: `stores` only where there is a second engine. */
const defaultSuites = () => Object.keys(SUITES).filter((name) => name !== 'stores' || process.env.SECURE_CI_OTHER_ENGINE);

/** Counts passes/failures from node:test and jest summary lines (colours stripped: jest colours its summary). */
function countResults(raw, totals) {
  const line = stripVTControlCharacters(raw);
  let match;
  if ((match = /^# pass (\d+)$/.exec(line))) totals.passed += Number(match[1]);
  else if ((match = /^# (?:fail|cancelled) (\d+)$/.exec(line))) totals.failed += Number(match[1]);
  else if (/^Tests:\s/.test(line)) {
    totals.passed += Number(/(\d+) passed/.exec(line)?.[1] ?? 0);
    totals.failed += Number(/(\d+) failed/.exec(line)?.[1] ?? 0);
  }
}

/** Runs one step with its output streamed through, counting results; resolves to its exit code. */
async function run(cmd, args, totals, extraEnv = {}) {
  const env = { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false', ...extraEnv };
  const step = await streamLines($({ cwd: workspaceRoot, env, nothrow: true })`${cmd} ${args}`, { onLine: (line) => countResults(line, totals) });
  return step.exitCode ?? 1;
}

runMain(async () => {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(name in SUITES));
  if (unknown.length) fail(`unknown suite(s) ${unknown.join(', ')}; choose from ${Object.keys(SUITES).join(', ')}`);
  const totals = { passed: 0, failed: 0 };
  const failedSteps = [];
  const suites = requested.length ? requested : defaultSuites();
  for (const suite of suites) {
    for (const [cmd, args, { always = false, env = {} } = {}] of SUITES[suite]()) {
      // later steps build on earlier ones (images need builds, e2e needs images): after a failure only cleanup runs
      if (failedSteps.length && !always) continue;
      console.log(`\n=== ${suite}: ${cmd} ${args.join(' ')}${env.DOCKER_HOST ? ` (DOCKER_HOST=${env.DOCKER_HOST})` : ''}`);
      // a step's own environment (the stores suite's DOCKER_HOST): without it the rerun would hit the default engine
      const code = await run(cmd, args, totals, env);
      if (code !== 0) failedSteps.push(`${suite}: ${cmd} ${args.slice(0, 3).join(' ')}`);
    }
  }
  if (!suites.includes('stores')) console.log('\nstores: the image-identity tests ran on one image store only (no SECURE_CI_OTHER_ENGINE; .ci/run starts one)');
  if (failedSteps.length) console.log(`\nfailed: ${failedSteps.join('; ')}`);
  // A step can fail without a test failing (a build, a lint): count it so the closing line never says all passed.
  const failed = Math.max(totals.failed, failedSteps.length);
  console.log(`\ntests: ${totals.passed} passed, ${failed} failed`);
  if (failedSteps.length || totals.failed) process.exitCode = 1;
});
