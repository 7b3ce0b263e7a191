// tools/affected-matrix.mjs against a throwaway git copy of this workspace: each commit touches one kind of file
// and the matrix must list exactly the images whose build reads it (README "What nx affected builds": the table).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMatrix, nxShowProjectsArgs, affectedRange } from '../affected-matrix.mjs';
import { listServices } from '../lib/services.mjs';
import { cleanEnv as workspaceEnv } from './support/clean-env.mjs';
import { assertOneLineError, gitIn, runTool } from './support/run-tool.mjs';

const WORKSPACE = fileURLToPath(new URL('../..', import.meta.url));
const TOOL = fileURLToPath(new URL('../affected-matrix.mjs', import.meta.url));
// The services as the workspace declares them (apps/*/project.json, the plugin's reader), so the expectations hold for
// any number of services; the per-file cases below use the template's own services as examples.
const SERVICE_FACTS = listServices(WORKSPACE);
const SERVICES = SERVICE_FACTS.map((s) => s.name);
const onFramework = (framework) => SERVICE_FACTS.filter((s) => s.framework === framework).map((s) => s.name);
const SERVICE_DOCKERFILE = 'docker/service/Dockerfile';

let repo;

/** Child processes' environment (./support/clean-env.mjs), with Nx's cache and data in the scratch repository. */
const cleanEnv = (extra = {}) =>
  workspaceEnv({ NX_CACHE_DIRECTORY: path.join(repo, '.nx', 'cache'), NX_WORKSPACE_DATA_DIRECTORY: path.join(repo, '.nx', 'workspace-data'), ...extra });

const git = (...args) => gitIn(repo, cleanEnv())(...args);

function write(rel, text, append = false) {
  const file = path.join(repo, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  if (append) appendFileSync(file, text);
  else writeFileSync(file, text);
}

function commit(message, changes) {
  for (const [rel, text] of Object.entries(changes)) write(rel, text, existsSync(path.join(repo, rel)));
  git('add', '-A');
  git('commit', '-q', '-m', message);
}

function run(args = [], env = {}) {
  const r = runTool(TOOL, args, { cwd: repo, env: cleanEnv(env) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function matrixFor(args, env) {
  const r = run(args, env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const serviceEntries = (names, prefix = 'secure-ci') =>
  names.map((project) => ({ project, image: `${prefix}/${project}`, dockerfile: SERVICE_DOCKERFILE, context: '.' }));

before(() => {
  repo = mkdtempSync(path.join(tmpdir(), 'affected-matrix-test-'));
  // The workspace as it is now: tracked files plus new, not ignored ones (work in progress of the team).
  const listed = gitIn(WORKSPACE)('ls-files', '-z', '--cached', '--others', '--exclude-standard');
  for (const rel of new Set(listed.split('\0').filter(Boolean))) {
    const src = path.join(WORKSPACE, rel);
    if (!existsSync(src) || !statSync(src).isFile()) continue;
    mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    copyFileSync(src, path.join(repo, rel));
  }
  symlinkSync(path.join(WORKSPACE, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
  // Placeholders for files other engineers may not have written yet.
  for (const dockerfile of ['docker/base/Dockerfile', SERVICE_DOCKERFILE]) {
    if (!existsSync(path.join(repo, dockerfile))) write(dockerfile, '# placeholder for the test\nFROM scratch\n');
  }
  for (const service of SERVICES) {
    const src = path.join(repo, 'apps', service, 'src');
    const hasTs = existsSync(src) && readdirSync(src, { recursive: true }).some((f) => String(f).endsWith('.ts'));
    if (!hasTs) write(`apps/${service}/src/main.ts`, "import * as kit from '@secure-ci/service-kit';\nexport const uses = kit;\n");
  }
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'test@example.com');
  git('config', 'user.name', 'affected-matrix test');
  git('config', 'commit.gpgsign', 'false');
  appendFileSync(path.join(repo, '.git', 'info', 'exclude'), '/node_modules\n/.nx/\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'workspace snapshot');
});

after(() => {
  if (repo) rmSync(repo, { recursive: true, force: true });
});

test('one service changed -> only that service (range from NX_BASE/NX_HEAD)', () => {
  const file = readdirSync(path.join(repo, 'apps/catalog/src'), { recursive: true }).find((f) => String(f).endsWith('.ts') && !String(f).endsWith('.spec.ts'));
  commit('catalog change', { [`apps/catalog/src/${file}`]: '\n// change\n' });
  const m = matrixFor([], { NX_BASE: 'HEAD~1', NX_HEAD: 'HEAD' });
  assert.deepEqual(m.include, serviceEntries(['catalog']));
  assert.equal(m.any, true);
  assert.equal(m.baseAffected, false);
  assert.deepEqual(m.projects, ['catalog']);
  assert.equal(m.base, null);
});

test('shared library changed -> every service (range from --base/--head)', () => {
  commit('kit change', { 'libs/service-kit/src/index.ts': '\n// change\n' });
  const m = matrixFor(['--base', 'HEAD~1', '--head', 'HEAD']);
  assert.deepEqual(m.include, serviceEntries(SERVICES));
  assert.equal(m.baseAffected, false);
  assert.deepEqual(m.projects, SERVICES);
});

test('base Dockerfile changed -> all services, baseAffected, base not a matrix entry', () => {
  commit('base change', { 'docker/base/Dockerfile': '\n# change\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
  assert.deepEqual(m.include, serviceEntries(SERVICES));
  assert.equal(m.any, true);
  assert.equal(m.baseAffected, true);
  assert.deepEqual(m.projects, ['base-image', ...SERVICES]);
  assert.deepEqual(m.base, { project: 'base-image', image: 'secure-ci/base-image', dockerfile: 'docker/base/Dockerfile', context: '.' });
});

test('any other file of the base project changed -> same as a Dockerfile change', () => {
  commit('base file', { 'docker/base/rootfs-extra.conf': 'x=1\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
  assert.deepEqual(m.include, serviceEntries(SERVICES));
  assert.equal(m.baseAffected, true);
});

test('shared service Dockerfile changed -> all services, base untouched', () => {
  commit('service dockerfile', { [SERVICE_DOCKERFILE]: '\n# change\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
  assert.deepEqual(m.include, serviceEntries(SERVICES));
  assert.equal(m.baseAffected, false);
  assert.deepEqual(m.projects, SERVICES);
});

test('docs-only change -> empty matrix, any=false; GITHUB_OUTPUT gets matrix/any/base-affected', () => {
  commit('docs', { 'apps/catalog/README.md': '\nMore docs.\n', 'docker/base/NOTES.md': 'notes\n', 'libs/service-kit/README.md': '\ndocs\n' });
  const out = path.join(repo, '.nx', 'github-output.txt');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, '');
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD'], { GITHUB_OUTPUT: out });
  assert.deepEqual(m, { include: [], any: false, baseAffected: false, projects: [], base: null });
  const text = readFileSync(out, 'utf8');
  const value = (name) => new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(text)?.[2];
  assert.equal(value('matrix'), '{"include":[]}');
  assert.equal(value('any'), 'false');
  assert.equal(value('base-affected'), 'false');
  assert.equal(value('projects'), '[]');
});

test('flags win over NX_BASE/NX_HEAD; image prefix from env, flag wins over env', () => {
  const m = matrixFor(['--base', 'HEAD~2', '--image-prefix', 'ghcr.io/Acme/Shop/'], { NX_BASE: 'HEAD', NX_HEAD: 'HEAD', IMAGE_PREFIX: 'ignored/x' });
  assert.deepEqual(m.include, serviceEntries(SERVICES, 'ghcr.io/acme/shop'));
  const e = matrixFor(['--base', 'HEAD~2', '--head', 'HEAD'], { IMAGE_PREFIX: 'registry.local:5000/team' });
  assert.equal(e.include[0].image, 'registry.local:5000/team/catalog');
  const none = matrixFor([], { NX_BASE: 'HEAD', NX_HEAD: 'HEAD' });
  assert.deepEqual(none.include, []);
  assert.equal(none.any, false);
});

test('GITHUB_OUTPUT matrix holds only include (usable as strategy.matrix); base-affected true', () => {
  const out = path.join(repo, '.nx', 'github-output-2.txt');
  writeFileSync(out, '');
  const m = matrixFor(['--base=HEAD~4', '--head=HEAD'], { GITHUB_OUTPUT: out });
  const text = readFileSync(out, 'utf8');
  const value = (name) => new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(text)?.[2];
  assert.deepEqual(JSON.parse(value('matrix')), { include: m.include });
  assert.equal(value('any'), 'true');
  assert.equal(value('base-affected'), 'true');
  assert.deepEqual(JSON.parse(value('projects')), ['base-image', ...SERVICES]);
});

test('--max-jobs below the number of images -> that many balanced batch entries, every service in exactly one', () => {
  commit('kit change for batches', { 'libs/service-kit/src/index.ts': '\n// batches\n' });
  const maxJobs = Math.max(1, SERVICES.length - 1);
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD', '--max-jobs', String(maxJobs)]);
  assert.equal(m.include.length, maxJobs);
  assert.deepEqual(m.include.flatMap((e) => e.projects.split(' ')).sort(), SERVICES);
  assert.deepEqual(
    m.include.flatMap((e) => e.images.split(' ')),
    m.include.flatMap((e) => e.projects.split(' ')).map((p) => `secure-ci/${p}`),
  );
  const sizes = m.include.map((e) => e.projects.split(' ').length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes}`);
  assert.deepEqual(m.projects, SERVICES, 'projects still lists every image');
  // At the limit: one job per image, the plain entries.
  assert.deepEqual(matrixFor(['--base=HEAD~1', '--head=HEAD', '--max-jobs', String(SERVICES.length)]).include, serviceEntries(SERVICES));
});

test('bad flags and a bad range -> one line on stderr, non-zero exit', () => {
  for (const [args, message, code] of [
    [['--bogus'], /unknown flag --bogus/, 2],
    [['--base'], /--base needs a value/, 2],
    [['main'], /unexpected argument 'main' \(see --help\)$/, 2],
    [['--base='], /--base must not be empty/, 2],
    [['--image-prefix', 'Not Valid'], /invalid image name "Not Valid"/, 2],
    [['--max-jobs', '257'], /--max-jobs must be a whole number from 1 to 256 \(GitHub's matrix limit\), got '257'/, 2],
    [['--max-jobs', '0'], /--max-jobs must be a whole number from 1 to 256/, 2],
    [['--max-jobs', '2.5'], /--max-jobs must be a whole number from 1 to 256/, 2],
    [['--base', 'no-such-ref-anywhere', '--head', 'HEAD'], /unknown git range no-such-ref-anywhere\.\.HEAD/, 1],
  ]) {
    assertOneLineError(runTool(TOOL, args, { cwd: repo, env: cleanEnv() }), { tool: 'affected-matrix', code, message, what: args.join(' ') });
  }
});

test('buildMatrix: base only, nothing, sorting, prefix normalisation (no nx)', () => {
  assert.deepEqual(buildMatrix([]), { include: [], any: false, baseAffected: false, projects: [], base: null });
  const baseOnly = buildMatrix(['base-image']);
  assert.deepEqual(baseOnly.include, []);
  assert.equal(baseOnly.any, false);
  assert.equal(baseOnly.baseAffected, true);
  assert.equal(baseOnly.base.dockerfile, 'docker/base/Dockerfile');
  const m = buildMatrix(['orders', 'base-image', 'catalog', 'orders'], { imagePrefix: 'GHCR.io/acme//' });
  assert.deepEqual(m.projects, ['base-image', 'catalog', 'orders']);
  assert.deepEqual(
    m.include.map((e) => e.image),
    ['ghcr.io/acme/catalog', 'ghcr.io/acme/orders'],
  );
  assert.throws(() => buildMatrix(['x'], { imagePrefix: 'a b' }), /invalid image name/);
  assert.deepEqual(nxShowProjectsArgs({ base: 'a', head: 'b' }), [
    'show',
    'projects',
    '--affected',
    '--withTarget=docker-build',
    '--json',
    '--base=a',
    '--head=b',
  ]);
  assert.deepEqual(affectedRange({}, { NX_BASE: 'x', NX_HEAD: 'y' }), { base: 'x', head: 'y' });
  assert.deepEqual(affectedRange({ base: 'f' }, { NX_BASE: 'x' }), { base: 'f', head: undefined });
});

test('tools-only change (scripts, their tests) -> no image; image tests importing tools do not tie images to them', () => {
  commit('tools change', { 'tools/stack.mjs': '\n// change\n', 'tools/test/extra.test.mjs': '// change\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
  assert.deepEqual(m.include, []);
  assert.equal(m.baseAffected, false);
});

test('the one Node.js version (.node-version) -> base and every service', () => {
  commit('node version', { '.node-version': '\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
  assert.deepEqual(m.include, serviceEntries(SERVICES));
  assert.equal(m.baseAffected, true);
});

test('build-context and image-tool changes (.dockerignore, docker-build, metadata) -> base and every service', () => {
  commit('build tooling', { '.dockerignore': '\n# change\n', 'tools/docker-build.mjs': '\n// change\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
  assert.deepEqual(m.include, serviceEntries(SERVICES));
  assert.equal(m.baseAffected, true);
});

// ---- exact selection, one row of the README's table each (every commit is one kind of change) ----

const selected = () => matrixFor(['--base=HEAD~1', '--head=HEAD']).projects;
const read = (rel) => readFileSync(path.join(repo, rel), 'utf8');
const FASTIFY_SERVICES = onFramework('fastify');
const EXPRESS_SERVICES = onFramework('express');

test('test-only changes (app spec, kit spec, adapter conformance spec) -> no image', () => {
  commit('specs', {
    'apps/catalog/src/app.spec.ts': '\n// change\n',
    'libs/service-kit/src/lib/config.spec.ts': '\n// change\n',
    'libs/service-kit-conformance/src/adapters.spec.ts': '\n// change\n',
  });
  assert.deepEqual(selected(), []);
});

test('test fixtures (src/testing/**) -> no image', () => {
  commit('fixtures', { 'apps/orders/src/testing/fake-catalog.ts': '\n// change\n', 'libs/service-kit-conformance/src/testing/helpers.ts': '\n// change\n' });
  assert.deepEqual(selected(), []);
});

test("an image's own tests and the Dockerfile policy tests -> no image", () => {
  commit('image tests', { 'docker/service/test/service-images.test.mjs': '\n// change\n', 'docker/base/test/base-image.test.mjs': '\n// change\n' });
  assert.deepEqual(selected(), []);
});

test('docs anywhere -> no image', () => {
  commit('more docs', { 'README.md': '\nmore\n', 'tools/nx-plugin/README.md': '\nmore\n', 'libs/service-kit-fastify/README.md': '\nmore\n' });
  assert.deepEqual(selected(), []);
});

test('a whitespace-only lockfile change -> no image; a script-only package.json change -> no image', () => {
  commit('lock whitespace', { 'package-lock.json': '\n' });
  assert.deepEqual(selected(), []);
  const pkg = JSON.parse(read('package.json'));
  pkg.scripts['hello'] = 'echo hello';
  writeFileSync(path.join(repo, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  commit('script', {});
  assert.deepEqual(selected(), []);
});

/** A realistic bump: package.json's exact version and the lockfile entry (version, resolved, integrity). */
function bump(name, version) {
  const pkg = JSON.parse(read('package.json'));
  pkg.dependencies[name] = version;
  writeFileSync(path.join(repo, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const lock = JSON.parse(read('package-lock.json'));
  lock.packages[''].dependencies[name] = version;
  const entry = lock.packages[`node_modules/${name}`];
  entry.version = version;
  entry.resolved = `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`;
  entry.integrity = `sha512-${Buffer.from(`${name}@${version}`).toString('base64')}`;
  writeFileSync(path.join(repo, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  commit(`bump ${name}`, {});
}

test('fastify bump (package.json + lock) -> only the fastify services', () => {
  bump('fastify', '5.99.0');
  assert.deepEqual(selected(), FASTIFY_SERVICES);
});

test('express bump -> only the express services; a package every service uses (pino) -> every service', () => {
  bump('express', '5.99.0');
  assert.deepEqual(selected(), EXPRESS_SERVICES);
  bump('pino', '10.99.0');
  assert.deepEqual(selected(), SERVICES);
});

test("a framework adapter's source -> only the services on that framework", () => {
  commit('fastify adapter', { 'libs/service-kit-fastify/src/fastify.ts': '\n// change\n' });
  assert.deepEqual(selected(), FASTIFY_SERVICES);
  commit('express adapter', { 'libs/service-kit-express/src/express.ts': '\n// change\n' });
  assert.deepEqual(selected(), EXPRESS_SERVICES);
});

test("a service's source -> that service only; its project.json (port) -> that service only", () => {
  commit('orders source', { 'apps/orders/src/orders.ts': '\n// change\n' });
  assert.deepEqual(selected(), ['orders']);
  const project = JSON.parse(read('apps/notifications/project.json'));
  project.metadata.port = 3999;
  writeFileSync(path.join(repo, 'apps/notifications/project.json'), `${JSON.stringify(project, null, 2)}\n`);
  commit('notifications port', {});
  assert.deepEqual(selected(), ['notifications']);
});

test('files the image build loads (the plugin that defines the build, the service facts reader) -> every image', () => {
  commit('plugin conventions', { 'tools/nx-plugin/src/conventions.js': '\n// change\n' });
  assert.deepEqual(selected(), ['base-image', ...SERVICES]);
  commit('facts reader', { 'tools/lib/services.mjs': '\n// change\n' });
  assert.deepEqual(selected(), ['base-image', ...SERVICES]);
  commit('tsconfig', { 'tsconfig.base.json': '\n' });
  assert.deepEqual(selected(), SERVICES, 'sharedGlobals: every bundle (the base image has no TypeScript)');
});

test('the service generator, the tools and their tests, lint/jest config -> no image', () => {
  commit('generator and config', {
    'tools/nx-plugin/src/generators/service/generator.js': '\n// change\n',
    'tools/nx-plugin/test/plugin.test.mjs': '\n// change\n',
    'eslint.config.mjs': '\n// change\n',
    'jest.preset.cjs': '\n// change\n',
  });
  assert.deepEqual(selected(), []);
});

// The pipeline rule (affected-matrix.mjs --exercise-pipeline): kept apart from Nx's answer above.
test('a workflow, .github/scripts or pipeline-tool change with no image affected -> the base image runs with --exercise-pipeline', () => {
  for (const [name, file] of [
    ['workflow', '.github/workflows/pr.yml'],
    ['script', '.github/scripts/image-record.mjs'],
    ['gate', 'tools/scan.mjs'],
    ['tagging', 'tools/tag.mjs'],
  ]) {
    commit(`${name} change`, { [file]: '\n# change\n' });
    const plain = matrixFor(['--base=HEAD~1', '--head=HEAD']);
    assert.deepEqual(
      plain.include.filter((e) => e.project === 'base-image'),
      [],
      `${name}: Nx alone selects no base image`,
    );
    const m = matrixFor(['--base=HEAD~1', '--head=HEAD', '--exercise-pipeline']);
    assert.equal(m.baseAffected, true, `${name}: the base image job runs`);
    if (!plain.include.length && !plain.baseAffected) {
      // The base job (pr.yml) builds, tests, pushes, gates and tags it; no service job is created for it.
      assert.deepEqual(m.include, [], name);
      assert.equal(m.any, false);
      assert.deepEqual(m.base, { project: 'base-image', image: 'secure-ci/base-image', dockerfile: 'docker/base/Dockerfile', context: '.' }, name);
    }
    assert.deepEqual(m.pipelineChanged, [file], name);
  }
});

test('--exercise-pipeline leaves other changes alone (a tool the pipeline does not use, docs)', () => {
  commit('unrelated', { 'tools/stack.mjs': '\n// change\n', 'README.md': '\nmore\n' });
  const m = matrixFor(['--base=HEAD~1', '--head=HEAD', '--exercise-pipeline']);
  assert.deepEqual(m.include, []);
  assert.equal(m.any, false);
  assert.equal(m.pipelineChanged, undefined);
});

test('a module docker-build loads only indirectly changed (cli, process, workspace, build-record, base-images) -> base and every service', () => {
  for (const file of [
    'tools/lib/cli.mjs',
    'tools/lib/process.mjs',
    'tools/lib/workspace.mjs',
    'tools/lib/build-record.mjs',
    'tools/lib/base-images.mjs',
    'tools/lib/dockerfile-args.mjs',
  ]) {
    commit(`${file} change`, { [file]: '\n// change\n' });
    const m = matrixFor(['--base=HEAD~1', '--head=HEAD']);
    assert.deepEqual(m.include, serviceEntries(SERVICES), file);
    assert.equal(m.baseAffected, true, file);
  }
});
