#!/usr/bin/env node
// Scale benchmark: how the workspace's own machinery grows with the number of services. For each size N it clones
// this repository's HEAD into a throwaway directory, grows it to N services with the project's generator (every fifth
// one with --calls catalog, frameworks alternating) and measures, each reported with its ratio to the smallest N:
//   - the generator, per service (the CLI as a user calls it: Nx start-up included)
//   - `nx graph` and `nx show projects --affected` (a one-line change in catalog) with a cold project graph, as on CI
//   - tools/affected-matrix.mjs after a kit change (every service affected): its time and the matrix output's size
//   - deploy/k8s/check.mjs (kubectl rendering, schema and policy), and the policy's rule evaluation alone
//   - lint, typecheck, test and build of every project, cold (empty Nx cache) and cached (the same run again)
// Goals (issue 21): affected and matrix flat (<= 1.5x from 3 to 100 services), the k8s check at most linear, the cached
// full verify at most linear. It is a benchmark, not a test: it reports and never fails on a goal.
//
// Usage: node bench/scale.mjs [--sizes 3,30,100] [--skip-verify | --verify-exclude P,...] [--json FILE]
//   --verify-exclude  projects the full verify leaves out (e.g. tools: its unit tests take minutes, Docker included,
//                     and would hide how the rest grows on a busy machine); the report says which
// Needs kubectl (deploy/k8s/check.mjs) and Docker only for the tools' unit tests inside the full verify.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fail, isMain, parseCliArgs, runMain } from '../tools/lib/cli.mjs';
import { $ } from '../tools/lib/process.mjs';
import { listServices } from '../tools/lib/services.mjs';
import { workspaceRoot } from '../tools/lib/workspace.mjs';

const USAGE = 'usage: node bench/scale.mjs [--sizes 3,30,100] [--skip-verify | --verify-exclude P,...] [--json FILE]';

/** The sizes to measure: whole numbers, at least the services the template has, ascending. */
export function parseSizes(text, minimum) {
  const sizes = String(text)
    .split(',')
    .map((s) => s.trim());
  if (!sizes.every((s) => /^\d+$/.test(s))) fail(`--sizes takes whole numbers separated by commas, e.g. 3,30,100 (got '${text}')`);
  const numbers = [...new Set(sizes.map(Number))].sort((a, b) => a - b);
  if (numbers[0] < minimum) fail(`--sizes: the smallest size is the template itself, ${minimum} services (got ${numbers[0]})`);
  if (numbers.at(-1) > 1000) fail(`--sizes: at most 1000 services (got ${numbers.at(-1)})`);
  return numbers;
}

/** Nothing inherited from a surrounding CI run or shell; each clone has its own Nx cache and graph. */
function cleanEnv(clone, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(GITHUB_|NX_|IMAGE_PREFIX$|GIT_|NODE_TEST_CONTEXT$)/.test(k)) env[k] = v;
  return {
    ...env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_CACHE_DIRECTORY: path.join(clone, '.nx', 'cache'),
    NX_WORKSPACE_DATA_DIRECTORY: path.join(clone, '.nx', 'workspace-data'),
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    ...extra,
  };
}

/** Runs a command in the clone and returns its wall time in seconds; a failure stops the bench with its last line. */
async function timed(clone, cmd, args, { env = {}, what = `${cmd} ${args.join(' ')}` } = {}) {
  const start = performance.now();
  const result = await $({ cwd: clone, env: cleanEnv(clone, env), nothrow: true, timeout: '7200s' })`${cmd} ${args}`;
  const seconds = (performance.now() - start) / 1000;
  if (!result.ok) {
    // The clone is removed on the way out: its whole output stays in a file the one line names.
    const log = path.join(os.tmpdir(), `bench-scale-failure-${process.pid}.log`);
    writeFileSync(log, `${what}\n${result.stdout}\n${result.stderr}`);
    const last = `${result.stderr}\n${result.stdout}`.trim().split('\n').filter(Boolean).slice(-2).join(' | ');
    fail(`${what} failed (exit ${result.exitCode}; whole output in ${log}): ${last}`, 1);
  }
  return { seconds, stdout: result.stdout };
}

const coldGraph = (clone) => rmSync(path.join(clone, '.nx', 'workspace-data'), { recursive: true, force: true });

/** A throwaway clone of HEAD (the bench never edits your tree) sharing this checkout's node_modules. */
async function cloneWorkspace() {
  const clone = mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
  await $({ env: cleanEnv(clone) })`git clone -q --no-hardlinks ${workspaceRoot} ${clone}`;
  const git = (...args) => $({ cwd: clone, env: cleanEnv(clone) })`git ${args}`;
  await git('config', 'user.email', 'bench@example.invalid');
  await git('config', 'user.name', 'bench');
  await git('config', 'commit.gpgsign', 'false');
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  appendFileSync(path.join(clone, '.git', 'info', 'exclude'), '/node_modules\n/.nx/\n');
  return { clone, git };
}

/** Grows the clone to `size` services; returns the generator's seconds per generated service (null when none). */
async function grow(clone, git, size) {
  const have = listServices(clone).length;
  const times = [];
  for (let i = have; i < size; i++) {
    const name = `scale-${String(i + 1).padStart(4, '0')}`;
    const args = ['nx', 'g', '@secure-ci/nx-plugin:service', name, '--framework', i % 2 ? 'express' : 'fastify'];
    if (i % 5 === 0) args.push('--calls', 'catalog');
    times.push((await timed(clone, 'npx', args)).seconds);
  }
  await git('add', '-A');
  await git('commit', '-q', '--allow-empty', '-m', `${size} services`);
  return times.length ? times.reduce((a, b) => a + b, 0) / times.length : null;
}

/** One commit with a one-line change: the range HEAD~1..HEAD the affected commands measure. */
async function change(clone, git, file, message) {
  appendFileSync(path.join(clone, file), `\n// bench: ${message}\n`);
  await git('commit', '-q', '-am', message);
}

/** The policy's rule evaluation alone, in the clone (rendering excluded): the mean of 20 runs after a warm-up, in seconds. */
async function ruleEvaluation(clone) {
  const script = `
    import { performance } from 'node:perf_hooks';
    import { readFacts } from './deploy/k8s/policy/facts.mjs';
    import { render } from './deploy/k8s/policy/render.mjs';
    import { checkObjects } from './deploy/k8s/policy/rules.mjs';
    const facts = readFacts(process.cwd());
    const objects = render('deploy/k8s/overlays/dev', process.env);
    for (let i = 0; i < 5; i++) checkObjects(objects, facts, { environment: 'dev' }); // warm-up (JIT)
    const runs = 20, start = performance.now();
    for (let i = 0; i < runs; i++) checkObjects(objects, facts, { environment: 'dev' });
    console.log(JSON.stringify({ seconds: (performance.now() - start) / 1000 / runs, objects: objects.length }));`;
  const { stdout } = await timed(clone, process.execPath, ['--input-type=module', '-e', script], { what: 'rule evaluation' });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

async function measure(size, { skipVerify, verifyExclude }) {
  const { clone, git } = await cloneWorkspace();
  try {
    console.log(`scale: ${size} services in ${clone}`);
    const generatorPerService = await grow(clone, git, size);
    coldGraph(clone);
    const graph = (await timed(clone, 'npx', ['nx', 'graph', `--file=${path.join(clone, '.nx', 'graph.json')}`])).seconds;
    await change(clone, git, 'apps/catalog/src/main.ts', 'a change in one service');
    coldGraph(clone);
    const affected = (await timed(clone, 'npx', ['nx', 'show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD', '--json'])).seconds;
    await change(clone, git, 'libs/service-kit/src/index.ts', 'a kit change: every service affected');
    coldGraph(clone);
    const matrixRun = await timed(clone, process.execPath, ['tools/affected-matrix.mjs', '--base', 'HEAD~1', '--head', 'HEAD']);
    const matrix = JSON.parse(matrixRun.stdout.trim().split('\n').at(-1));
    const matrixOutput = JSON.stringify({ include: matrix.include }).length;
    const k8sCheck = (await timed(clone, process.execPath, ['deploy/k8s/check.mjs'])).seconds;
    const rules = await ruleEvaluation(clone);
    const result = {
      services: size,
      generatorPerService,
      graph,
      affected,
      matrix: matrixRun.seconds,
      matrixBytes: matrixOutput,
      matrixEntries: matrix.include.length,
      k8sCheck,
      ruleEvaluation: rules.seconds,
      k8sObjects: rules.objects,
    };
    if (!skipVerify) {
      const verify = ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', 'build', '--outputStyle=static'];
      if (verifyExclude.length) verify.push(`--exclude=${verifyExclude.join(',')}`);
      rmSync(path.join(clone, '.nx', 'cache'), { recursive: true, force: true });
      result.verifyCold = (await timed(clone, 'npx', verify)).seconds;
      result.verifyCached = (await timed(clone, 'npx', verify)).seconds;
    }
    return result;
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}

const METRICS = [
  ['generatorPerService', 'generator, per service', 's'],
  ['graph', '`nx graph` (cold graph)', 's'],
  ['affected', '`nx show projects --affected`', 's'],
  ['matrix', '`affected-matrix.mjs` (kit change)', 's'],
  ['matrixBytes', 'matrix output', 'B'],
  ['k8sCheck', '`deploy/k8s/check.mjs`', 's'],
  ['ruleEvaluation', 'policy rule evaluation (dev)', 'ms'],
  ['verifyCold', 'lint/typecheck/test/build, cold', 's'],
  ['verifyCached', 'lint/typecheck/test/build, cached', 's'],
];

const format = (value, unit) => {
  if (value === null || value === undefined) return '–';
  if (unit === 'B') return value >= 1000 ? `${(value / 1000).toFixed(1)} KB` : `${value} B`;
  if (unit === 'ms') return `${(value * 1000).toFixed(1)} ms`;
  return `${value.toFixed(1)} s`;
};

/** The markdown table: one row per metric, one column per size, each after the first with its ratio to the first. */
export function table(results) {
  const [first] = results;
  const lines = [`| | ${results.map((r) => `${r.services} services`).join(' | ')} |`, `| --- |${results.map(() => ' --- |').join('')}`];
  for (const [key, label, unit] of METRICS) {
    if (results.every((r) => r[key] === undefined)) continue;
    const cells = results.map((r, i) => {
      const ratio = i > 0 && first[key] && r[key] !== null && r[key] !== undefined ? ` (${(r[key] / first[key]).toFixed(2)}×)` : '';
      return `${format(r[key], unit)}${ratio}`;
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(argv) {
  const { values } = parseCliArgs(
    { args: argv, options: { sizes: { type: 'string' }, 'skip-verify': { type: 'boolean' }, 'verify-exclude': { type: 'string' }, json: { type: 'string' } } },
    { hint: ` (${USAGE})` },
  );
  const minimum = listServices().length;
  const sizes = parseSizes(values.sizes ?? [minimum, 30, 100].join(','), minimum);
  const verifyExclude = (values['verify-exclude'] ?? '').split(',').filter(Boolean);
  if (values['skip-verify'] && verifyExclude.length) fail('--skip-verify and --verify-exclude exclude each other');
  if (verifyExclude.length) console.log(`scale: the full verify leaves out ${verifyExclude.join(', ')}`);
  const results = [];
  for (const size of sizes) {
    results.push(await measure(size, { skipVerify: values['skip-verify'], verifyExclude }));
    console.log(JSON.stringify(results.at(-1)));
  }
  const markdown = table(results);
  console.log(`\n${markdown}`);
  if (values.json) {
    mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, verifyExclude, results }, null, 2)}\n`);
  }
  return 0;
}

if (isMain(import.meta.url)) runMain(() => main(process.argv.slice(2)), 'scale');
