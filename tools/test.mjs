#!/usr/bin/env node
// The README's test command: every suite in dependency order, then one closing line with the totals.
//   workspace  `nx sync:check` (a derived compose/Kubernetes file that is stale fails here, naming `npx nx sync`), the
//              format check (prettier), then lint, typecheck, unit tests and builds of every Nx project (tools'
//              own unit tests included)
//   images     offline bases if needed, `nx run-many -t docker-build`, then the image tests beside each recipe
//   e2e        what needs built images: workflow rehearsal, registry round trip, compose stack
//   stores     the image-identity tests (pipeline round trip, PR/publish rehearsals, signing) again on a second engine
//              with the other image store (classic <-> containerd), in a copy of the workspace
//              (tools/test/support/other-store.mjs). Tests cannot start a user's second engine: this suite runs where
//              SECURE_CI_OTHER_ENGINE is its DOCKER_HOST (.ci/run starts one and sets it), and otherwise says so.
// Four steps run beside a suite instead of after it, their lines prefixed with their name, where CI's 2 cores have
// CPU to spare (measured: about 60 % busy during the images suite, 80 % during e2e's tests one at a time):
//   - images' offline bases (debootstrap, downloads: they wait on the network) beside the workspace suite;
//   - the stores suite (another engine, its own copy of the workspace; it needs the bases, joined first) beside the
//     images suite and on into e2e. Its PR rehearsal runs the base image tests, which switch the machine-global binfmt
//     handler off while they cross-build: a lock across processes (docker/base/test/support/foreign-arch.mjs) keeps
//     it on while any suite runs foreign containers;
//   - e2e's tests on throwaway clones (e2e-clones: the service generator, a port change) and its reproducible-images
//     test (e2e-reproducible) beside the rest of e2e.
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
    // first: the derived files must agree with apps/*/project.json before anything is checked against them
    ['npx', ['nx', 'sync:check']],
    ['npx', ['prettier', '--check', '.']],
    ['npx', ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', 'build', '--outputStyle=static']],
  ],
  images: () => [
    // trixie stand-ins (the default) plus bookworm, which the base image tests build through its one build arg
    ['node', ['tools/bases.mjs', '--suite', 'bookworm'], { beside: 'workspace' }],
    ['npx', ['nx', 'run-many', '-t', 'docker-build', '--outputStyle=static']],
    nodeTest(testFiles('docker/base/test', 'docker/service/test')),
  ],
  e2e: () => {
    // Three streams, each with what is its own: the tests on throwaway clones of the workspace (service generator, port
    // change: Nx and TypeScript, images under their own names), the reproducible-images test (its own clones, cold
    // builds that wait on the Debian mirror and the npm registry) and the rest, on this checkout's images.
    const streams = {
      'e2e-clones': ['tools/test/e2e/generator.test.mjs', 'tools/test/e2e/port-change.test.mjs'],
      'e2e-reproducible': ['tools/test/e2e/reproducible.test.mjs'],
    };
    const files = testFiles('tools/test/e2e');
    const inStreams = new Set(Object.values(streams).flat());
    const beside = Object.entries(streams)
      .map(([label, own]) => [label, files.filter((f) => own.includes(f))])
      .filter(([, own]) => own.length)
      .map(([label, own]) => [...nodeTest(own), { beside: 'e2e', label }]);
    return [...beside, nodeTest(files.filter((f) => !inStreams.has(f)))];
  },
  stores: () => [['node', ['tools/test/support/other-store.mjs'], { beside: 'images' }]],
};
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

/** Runs one step with its output streamed through (prefixed, when it runs beside another suite), counting results. */
async function run(cmd, args, totals, { prefix = '' } = {}) {
  // Nx plugins in-process, not in worker processes: with no daemon every `nx` the tests start (hundreds a run) spawns
  // the workers again, 5.9 s of CPU for `nx show projects` here against 1.9 s in-process (measured on this workspace)
  const env = { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false', NX_ISOLATE_PLUGINS: process.env.NX_ISOLATE_PLUGINS ?? 'false' };
  const step = await streamLines($({ cwd: workspaceRoot, env, nothrow: true })`${cmd} ${args}`, { prefix, onLine: (line) => countResults(line, totals) });
  return step.exitCode ?? 1;
}

runMain(async () => {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !(name in SUITES));
  if (unknown.length) fail(`unknown suite(s) ${unknown.join(', ')}; choose from ${Object.keys(SUITES).join(', ')}`);
  const totals = { passed: 0, failed: 0 };
  const failedSteps = [];
  const suites = requested.length ? requested : defaultSuites();
  const steps = suites.flatMap((suite) => SUITES[suite]().map(([cmd, args, { beside, label } = {}]) => ({ suite, cmd, args, beside, label: label ?? suite })));
  /** Runs a step: its exit code goes to failedSteps; a failure anywhere skips the steps not yet started. */
  const runStep = async (step, options) => {
    if (failedSteps.length) return;
    console.log(`\n=== ${step.label}: ${step.cmd} ${step.args.join(' ')}${step.overlapping ? ` (beside ${step.beside})` : ''}`);
    const code = await run(step.cmd, step.args, totals, options);
    if (code !== 0) failedSteps.push(`${step.label}: ${step.cmd} ${step.args.slice(0, 3).join(' ')}`);
  };
  const started = new Map(); // a step running beside another suite -> its promise
  for (const suite of suites) {
    const own = steps.filter((s) => s.suite === suite);
    // this suite's steps started beside an earlier one are joined first: what runs beside this suite may need them
    for (const step of own) if (started.has(step)) await started.get(step);
    // steps that may run beside this suite start with it (a later suite's, or its own beside the rest of it)
    for (const step of steps.filter((s) => s.beside === suite && suites.includes(s.suite) && !started.has(s))) {
      step.overlapping = true;
      started.set(step, runStep(step, { prefix: `${step.label}| ` }));
    }
    for (const step of own) if (!started.has(step)) await runStep(step);
    for (const step of own) if (step.beside === suite) await started.get(step);
  }
  await Promise.all(started.values());
  if (!suites.includes('stores')) console.log('\nstores: the image-identity tests ran on one image store only (no SECURE_CI_OTHER_ENGINE; .ci/run starts one)');
  if (failedSteps.length) console.log(`\nfailed: ${failedSteps.join('; ')}`);
  // A step can fail without a test failing (a build, a lint): count it so the closing line never says all passed.
  const failed = Math.max(totals.failed, failedSteps.length);
  console.log(`\ntests: ${totals.passed} passed, ${failed} failed`);
  if (failedSteps.length || totals.failed) process.exitCode = 1;
});
