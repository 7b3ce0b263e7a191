// The service generator end to end, on a throwaway clone of this repository's HEAD: ten services (both frameworks,
// the express one calling the fastify one, several calling catalog, one on an explicit port >= 3050), then everything
// a new service must be picked up by with no further edit: the affected matrix, `nx affected` (the workspace-wide
// tests of tools, nx-plugin and k8s included), the whole workspace suite (format, lint, typecheck, unit tests and
// builds of every project: the tools' unit tests, nx-plugin's and the Kubernetes manifests rendered with kubectl and
// checked by deploy/k8s/test against the clone's facts), Nx's cache never replaying a stale nx-plugin pass,
// docker-build and the image tests (hardened and healthy under --read-only --cap-drop ALL --security-opt
// no-new-privileges) and the compose checks. Images are built for two of the ten only, to keep the runtime down.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { docker, requireDocker } from '../../lib/docker-engine.mjs';
import { listServices } from '../../lib/services.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { runAsync } from '../support/run-tool.mjs';
import { cleanEnv } from '../support/clean-env.mjs';
import { nxCacheDirectory, throwawayClone } from '../support/throwaway-clone.mjs';

const PREFIX = `secure-ci-gen-e2e-${process.pid}`;
// The services' names are this run's own. Nx keeps one task cache per user for every checkout of a repository
// (~/.nx/<id>), earlier runs' included: generating the same names again would give the same inputs, and the
// workspace suite below would rightly replay an earlier run's pass instead of showing that these files are inputs.
const RUN = randomBytes(3).toString('hex');
const FASTIFY = `gen-${RUN}-fastify`;
const EXPRESS = `gen-${RUN}-express`;
// Eight more: alternating frameworks, three of them calling catalog (whose NetworkPolicy then admits four callers),
// one on an explicit port from 3050 on (the first one no service uses).
const MORE = Array.from({ length: 8 }, (_, i) => ({
  name: `gen-${RUN}-${String(i + 3).padStart(2, '0')}`,
  framework: i % 2 ? 'express' : 'fastify',
  calls: [0, 3, 6].includes(i) ? 'catalog' : undefined,
}));
const GENERATED = [FASTIFY, EXPRESS, ...MORE.map((s) => s.name)].sort();
const CATALOG_CALLERS = MORE.filter((s) => s.calls === 'catalog').map((s) => s.name);
let clone;
let explicitPort;
let workspace; // the throwaway clone (support/throwaway-clone.mjs)
const env = (extra) => cleanEnv(extra);
const run = (...args) => workspace.run(...args);
const git = (...args) => workspace.git(...args);

before(async () => {
  await requireDocker();
  // the offline base images this machine bootstrapped (tools/bases.mjs) are found through its bases.json
  workspace = throwawayClone('generator-e2e', { bases: true });
  clone = workspace.dir;
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
  workspace.remove();
});

/** Whether Nx replayed `project:target` from its cache in a run's output (static output style). */
const replayed = (output, task) =>
  new RegExp(`nx run ${task}[^\n]*\\[(local cache|remote cache|existing outputs match the cache[^\\]]*)\\]`).test(stripVTControlCharacters(output));

test("before the change: the clone shares this checkout's Nx cache, and a second nx-plugin:test is replayed from it", async () => {
  // what lets the workspace suite below replay the projects the generator leaves untouched
  assert.equal(await nxCacheDirectory(clone), await nxCacheDirectory(workspaceRoot), 'one Nx cache for both checkouts');
  await run('npx', ['nx', 'test', 'nx-plugin', '--outputStyle=static']);
  assert.ok(replayed(await run('npx', ['nx', 'test', 'nx-plugin', '--outputStyle=static']), 'nx-plugin:test'), 'unchanged inputs: a cache hit');
});

test('generates ten services (both frameworks, callers of catalog, a port >= 3050); bad input writes nothing', async () => {
  const bad = await runAsync('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', 'catalog', '--framework', 'fastify'], { cwd: clone, env: env() });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /service generator: a project named "catalog"/);
  assert.equal(git('status', '--porcelain'), '', 'nothing written');
  const used = listServices(clone).map((s) => s.port);
  for (explicitPort = 3050; used.includes(explicitPort); explicitPort++);
  await run('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', FASTIFY, '--framework', 'fastify', '--port', String(explicitPort)]);
  await run('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', EXPRESS, '--framework', 'express', '--calls', FASTIFY]);
  for (const { name, framework, calls } of MORE)
    await run('npx', ['nx', 'g', '@secure-ci/nx-plugin:service', name, '--framework', framework, ...(calls ? ['--calls', calls] : [])]);
  const facts = Object.fromEntries(listServices(clone).map((s) => [s.name, s]));
  for (const name of GENERATED) {
    assert.ok(facts[name], name);
    assert.ok(readFileSync(path.join(clone, 'apps', name, 'project.json'), 'utf8').split('\n').length <= 30);
  }
  assert.equal(facts[FASTIFY].port, explicitPort);
  assert.ok(explicitPort >= 3050);
  assert.equal(new Set(Object.values(facts).map((s) => s.port)).size, Object.keys(facts).length, 'every service on its own port');
  assert.deepEqual(
    Object.values(facts)
      .filter((s) => s.calls.includes('catalog'))
      .map((s) => s.name)
      .sort(),
    ['orders', ...CATALOG_CALLERS].sort(),
  );
  // that what the generator wrote and edited is already in the repository's format is checked by the workspace suite
  // below (prettier --check .)
  git('add', '-A');
  git('commit', '-q', '-m', 'ten generated services');
});

test('the affected matrix selects exactly the ten new services', async () => {
  const matrix = JSON.parse((await run(process.execPath, ['tools/affected-matrix.mjs', '--base', 'HEAD~1', '--head', 'HEAD'])).trim().split('\n').at(-1));
  assert.deepEqual(matrix.projects, GENERATED);
  assert.equal(matrix.baseAffected, false);
});

test('nx affected: the new services and the workspace-wide tests that cover them (tools, nx-plugin, k8s)', async () => {
  const out = await run('npx', ['nx', 'show', 'projects', '--affected', '--withTarget=test', '--base=HEAD~1', '--head=HEAD', '--json']);
  const affected = JSON.parse(
    out
      .trim()
      .split('\n')
      .findLast((line) => line.startsWith('[')),
  );
  for (const project of [...GENERATED, 'tools', 'nx-plugin', 'k8s']) assert.ok(affected.includes(project), `${project} in ${affected}`);
  assert.equal(affected.includes('service-kit'), false, 'a library the services use is not affected by them');
});

test('the workspace suite passes with thirteen services: format, lint, typecheck, every unit test (tools, nx-plugin, k8s), builds', async () => {
  // Its whole output goes to a file beside the clone: a failure names it (the assertion carries only the tail).
  const log = path.join(tmpdir(), `generator-e2e-workspace-${process.pid}.log`);
  const suite = await runAsync(process.execPath, ['tools/test.mjs', 'workspace'], { cwd: clone, env: env(), timeout: '2700s' });
  writeFileSync(log, `${suite.stdout}\n${suite.stderr}`);
  const out = stripVTControlCharacters(`${suite.stdout}\n${suite.stderr}`);
  assert.equal(suite.status, 0, `the workspace suite failed (whole output: ${log}):\n${out.split('\n').slice(-30).join('\n')}`);
  rmSync(log, { force: true });
  assert.match(out, /^tests: \d+ passed, 0 failed$/m);
  assert.match(out, /All matched files use Prettier code style!/, 'the generated files are in the repository format');
  for (const name of GENERATED) assert.ok(existsSync(path.join(clone, 'dist/apps', name, 'main.js')), name);
  // The tests that read the new services' files ran again (their inputs are new to every cache: this run's names); a
  // replay here would be the pre-generation pass that the first test put in the cache, i.e. a stale one.
  for (const task of ['tools:test', 'nx-plugin:test', 'k8s:test']) {
    assert.match(out, new RegExp(`nx run ${task}`), task);
    assert.equal(replayed(out, task), false, `${task} ran, not replayed`);
  }
  // the k8s suite expects every service of the clone's facts in both renders (its CLI test counts their objects)
  assert.match(out, /ok \d+ - dev: the namespace, every service, and the generated development Secrets/);
  const policy = YAML.parse(readFileSync(path.join(clone, 'deploy/k8s/base', FASTIFY, 'networkpolicy.yaml'), 'utf8'));
  assert.deepEqual(
    policy.spec.ingress.map((rule) => rule.from[0].podSelector.matchLabels['app.kubernetes.io/name']),
    [EXPRESS],
  );
  const catalog = YAML.parse(readFileSync(path.join(clone, 'deploy/k8s/base/catalog/networkpolicy.yaml'), 'utf8'));
  assert.deepEqual(
    catalog.spec.ingress.map((rule) => rule.from[0].podSelector.matchLabels['app.kubernetes.io/name']).sort(),
    ['orders', ...CATALOG_CALLERS].sort(),
  );
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
