// The service generator end to end, on a throwaway clone of this repository's HEAD: one service per framework (the
// express one calling the fastify one), then everything a new service must be picked up by with no further edit:
// lint, typecheck, test, build, docker-build, the image tests (hardened and healthy under --read-only --cap-drop ALL
// --security-opt no-new-privileges), the affected matrix, the compose checks, and the Kubernetes manifests (rendered
// with kubectl and checked by deploy/k8s/test against the clone's facts).
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { docker, requireDocker } from '../../lib/docker-engine.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { gitIn, runAsync } from '../support/run-tool.mjs';

const PREFIX = `secure-ci-gen-e2e-${process.pid}`;
const FASTIFY = 'gen-e2e-fastify';
const EXPRESS = 'gen-e2e-express';
let clone;

/** Nothing inherited from a surrounding CI run or shell that could change the answers. */
function env(extra = {}) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(GITHUB_|NX_|IMAGE_PREFIX$|IMAGE_TAG$|GIT_|SERVICE_IMAGES$|NODE_TEST_CONTEXT$)/.test(k)) out[k] = v;
  return { ...out, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

/** Runs a command in the clone; on failure the assertion carries the tail of its output. */
async function run(cmd, args, extra = {}) {
  const r = await runAsync(cmd, args, { cwd: clone, env: env(extra), timeout: '900s' });
  const output = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${output.split('\n').slice(-40).join('\n')}`);
  return output;
}

const git = (...args) => gitIn(clone, env())(...args);

before(async () => {
  await requireDocker();
  clone = mkdtempSync(path.join(tmpdir(), 'generator-e2e-'));
  gitIn(workspaceRoot, env())('clone', '-q', '--no-hardlinks', workspaceRoot, clone);
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'generator e2e');
  git('config', 'commit.gpgsign', 'false');
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  appendFileSync(path.join(clone, '.git', 'info', 'exclude'), '/node_modules\n/.nx/\n');
  // the offline base images this machine bootstrapped (tools/bases.mjs) are found through this record
  const bases = path.join(workspaceRoot, 'dist/docker/bases.json');
  if (existsSync(bases)) {
    mkdirSync(path.join(clone, 'dist/docker'), { recursive: true });
    copyFileSync(bases, path.join(clone, 'dist/docker/bases.json'));
  }
});

after(async () => {
  if (!clone) return;
  for (const name of ['base-image', FASTIFY, EXPRESS]) {
    const record = path.join(clone, 'dist/docker', `${name}.json`);
    if (existsSync(record)) await docker(['rmi', '-f', ...JSON.parse(readFileSync(record, 'utf8')).tags], { reject: false });
  }
  // the image tests also cross-build the generated services for the foreign architecture (<name>.<arch>.json)
  for (const file of existsSync(path.join(clone, 'dist/docker')) ? readdirSync(path.join(clone, 'dist/docker')) : []) {
    if (!new RegExp(`^(${FASTIFY}|${EXPRESS})\\.[a-z0-9]+\\.json$`).test(file)) continue;
    await docker(['rmi', '-f', ...JSON.parse(readFileSync(path.join(clone, 'dist/docker', file), 'utf8')).tags], { reject: false });
  }
  rmSync(clone, { recursive: true, force: true });
});

test('generates a fastify service and an express service that calls it; bad input writes nothing', async () => {
  const bad = await runAsync('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', 'catalog', '--framework', 'fastify'], { cwd: clone, env: env() });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /service generator: a project named "catalog"/);
  assert.equal(git('status', '--porcelain'), '', 'nothing written');
  await run('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', FASTIFY, '--framework', 'fastify']);
  await run('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', EXPRESS, '--framework', 'express', '--calls', FASTIFY]);
  for (const name of [FASTIFY, EXPRESS]) assert.ok(readFileSync(path.join(clone, 'apps', name, 'project.json'), 'utf8').split('\n').length <= 30);
  // what the generator wrote and edited is already in the repository's format: the test command's check passes
  await run('npx', ['prettier', '--check', '.']);
  git('add', '-A');
  git('commit', '-q', '-m', 'two generated services');
});

test('the affected matrix selects exactly the two new services', async () => {
  const matrix = JSON.parse((await run(process.execPath, ['tools/affected-matrix.mjs', '--base', 'HEAD~1', '--head', 'HEAD'])).trim().split('\n').at(-1));
  assert.deepEqual(matrix.projects, [EXPRESS, FASTIFY].sort());
  assert.equal(matrix.baseAffected, false);
});

test('lint, typecheck, test and build pick them up', async () => {
  const out = await run('npx', ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', 'build', `--projects=${FASTIFY},${EXPRESS}`, '--outputStyle=static']);
  // Nx colours its summary when the environment asks for colour (as CI's does): match the text, not the codes.
  assert.match(stripVTControlCharacters(out), /Successfully ran targets lint, typecheck, test, build for 2 projects/);
  for (const name of [FASTIFY, EXPRESS]) assert.ok(existsSync(path.join(clone, 'dist/apps', name, 'main.js')), name);
});

test('docker-build builds both images; the image tests pass on them (hardened, healthy, only their framework)', async () => {
  await run('npx', ['nx', 'run-many', '-t', 'docker-build', `--projects=${FASTIFY},${EXPRESS}`, '--outputStyle=static'], { IMAGE_PREFIX: PREFIX });
  const out = await run(process.execPath, ['--test', '--test-concurrency=1', 'docker/service/test/service-images.test.mjs'], {
    SERVICE_IMAGES: `${FASTIFY},${EXPRESS}`,
  });
  assert.match(out, /# fail 0/);
  assert.match(out, /becomes healthy with a read-only root, no capabilities and no-new-privileges/);
});

test('the compose files resolve with both services hardened, wired (URL, key file, depends_on healthy), ports from project.json', async () => {
  const out = await run(process.execPath, [
    '--test',
    '--test-concurrency=1',
    '--test-name-pattern=compose|defined once|development-only',
    'tools/test/stack.test.mjs',
  ]);
  assert.match(out, /# fail 0/);
  assert.match(out, new RegExp(`apps/${EXPRESS}/compose.yaml: services ${EXPRESS}, ${FASTIFY}`));
});

test('Kubernetes: both bases render in both overlays and the whole k8s suite passes (callee ingress, dev keys, digests)', async () => {
  const out = await run(process.execPath, [
    '--test',
    '--test-concurrency=1',
    ...readdirSync(path.join(clone, 'deploy/k8s/test'))
      .filter((f) => f.endsWith('.test.mjs'))
      .map((f) => `deploy/k8s/test/${f}`),
  ]);
  // the suite expects every service of the clone's facts in both renders (its CLI test counts their objects)
  assert.match(out, /# fail 0/);
  assert.match(out, /ok \d+ - dev: the namespace, every service, and the generated development Secrets/);
  const policy = YAML.parse(readFileSync(path.join(clone, 'deploy/k8s/base', FASTIFY, 'networkpolicy.yaml'), 'utf8'));
  assert.deepEqual(
    policy.spec.ingress.map((rule) => rule.from[0].podSelector.matchLabels['app.kubernetes.io/name']),
    [EXPRESS],
  );
});
