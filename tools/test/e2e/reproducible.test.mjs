// Reproducible images, proven end to end. A clone of this commit (one path) builds the base and catalog from a cold
// builder cache (--no-cache) for linux/amd64 and linux/arm64, orders and notifications on that base, and pushes all four
// by digest to a local registry. Then `tools/verify-rebuild.mjs`, from this workspace, reads each image's inputs back
// from the registry, checks the commit out in a temporary worktree (another path, minutes later) and rebuilds:
//   - base and catalog cold again on both architectures: identical manifest digests (the double cold build);
//   - orders and notifications with BuildKit's cache allowed: what differs between services (their esbuild bundle,
//     package.json, lockfile, port) is rebuilt from the new checkout and compared, the mechanism is catalog's;
//   - a commit whose service image carries a file stamped with the build time: not reproduced, the file named;
//   - a digest the registry does not have, and an image naming a commit this repository lacks: one line each.
// The Debian packages come from the configured mirror (--mirror) with the image's exact versions pinned: this machine
// cannot reach snapshot.debian.org.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../lib/docker-engine.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { startLocalRegistry } from '../support/local-registry.mjs';
import { gitIn, runAsync, runToolAsync } from '../support/run-tool.mjs';

const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const SERVICES = ['catalog', 'orders', 'notifications'];
// Where the engine's bridge network cannot resolve names (a machine whose containers get no DNS), BUILD_NETWORK=host
// runs the builds' RUN steps on the host network; the images do not change with it.
const network = process.env.BUILD_NETWORK ? ['--network', process.env.BUILD_NETWORK] : [];
const platformRecord = (project, platform) => `dist/docker/${project}.${platform.replace('/', '-')}.json`;

/** Runs a tool of the clone, in the clone; throws one line when it fails. */
async function inClone(clone, script, args) {
  const result = await runToolAsync(path.join(clone, script), args, { cwd: clone, env: { ...process.env, NX_DAEMON: 'false' } });
  if (result.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (exit ${result.status}): ${result.stderr.trim().split('\n').pop()}`);
  return result;
}

/** A clone of HEAD that can build images: node_modules hard-linked (same lockfile), the offline stand-ins recorded. */
async function cloneHead(dir) {
  gitIn(workspaceRoot)('clone', '--quiet', '--no-checkout', workspaceRoot, dir);
  const git = gitIn(dir);
  git('checkout', '--quiet', '--detach', gitIn(workspaceRoot)('rev-parse', 'HEAD'));
  const linked = await runAsync('cp', ['-al', path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules')]);
  if (linked.status !== 0) throw new Error(`cp -al node_modules failed: ${linked.stderr.trim()}`);
  rmSync(path.join(dir, 'node_modules/.cache'), { recursive: true, force: true });
  mkdirSync(path.join(dir, 'dist/docker'), { recursive: true });
  cpSync(path.join(workspaceRoot, 'dist/docker/bases.json'), path.join(dir, 'dist/docker/bases.json'));
  const built = await runAsync('npx', ['nx', 'run-many', '-t', 'build', '-p', SERVICES.join(','), '--outputStyle=static', '--skip-nx-cache'], {
    cwd: dir,
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (built.status !== 0) throw new Error(`nx build in the clone failed: ${built.stdout.trim().split('\n').pop()}`);
  return git;
}

/** Builds `project` per platform in the clone (cold unless `warm`), pushes the index; returns its digest ref. */
async function buildAndPush(clone, registry, project, { warm = false, baseRefs = {}, platforms = PLATFORMS } = {}) {
  const image = `${registry.host}/repro/${project}`;
  for (const platform of platforms) {
    const args = [project, '--platform', platform, '--image', image, '--record', platformRecord(project, platform)];
    if (baseRefs[platform]) args.push('--build-arg', `BASE_IMAGE=${baseRefs[platform]}`);
    if (!warm) args.push('--no-cache');
    args.push(...network);
    await inClone(clone, 'tools/docker-build.mjs', args);
  }
  await inClone(clone, 'tools/push.mjs', [project, '--image', image, '--platforms', platforms.join(',')]);
  const record = JSON.parse(readFileSync(path.join(clone, 'dist/docker', `${project}.json`), 'utf8'));
  return `${image}@${record.digest}`;
}

const verify = (args, { cwd = workspaceRoot } = {}) =>
  runToolAsync(path.join(cwd, 'tools/verify-rebuild.mjs'), ['--mirror', ...network, ...args], { cwd, env: { ...process.env, NX_DAEMON: 'false' } });

describe('reproducible images: a cold rebuild elsewhere gives the published digests', () => {
  let registry;
  let scratch;
  let clone;
  const refs = {};
  const baseRefs = {};
  before(async () => {
    await requireDocker();
    registry = await startLocalRegistry();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'reproducible-e2e-'));
    clone = path.join(scratch, 'first-clone');
    await cloneHead(clone);
    refs['base-image'] = await buildAndPush(clone, registry, 'base-image');
    for (const platform of PLATFORMS) baseRefs[platform] = JSON.parse(readFileSync(path.join(clone, platformRecord('base-image', platform)), 'utf8')).tags[0];
    refs.catalog = await buildAndPush(clone, registry, 'catalog', { baseRefs });
    for (const project of ['orders', 'notifications']) refs[project] = await buildAndPush(clone, registry, project, { baseRefs, warm: true });
  });
  after(async () => {
    await registry?.stop();
    if (clone) await runAsync('git', ['worktree', 'prune'], { cwd: clone });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    const listed = await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${registry?.host}/repro/*`], { reject: false });
    const tags = (listed?.stdout ?? '').split('\n').filter(Boolean);
    if (tags.length) await docker(['image', 'rm', ...tags], { reject: false });
  });

  test('base and catalog, rebuilt cold in another checkout for amd64 and arm64: identical digests', async () => {
    const result = await verify([refs['base-image'], refs.catalog]);
    assert.equal(result.status, 0, result.stdout.slice(-3000) + result.stderr);
    for (const project of ['base-image', 'catalog'])
      assert.match(result.stdout, new RegExp(`^reproduced ${refs[project].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    for (const platform of PLATFORMS) assert.equal(result.stdout.split('\n').filter((l) => l.startsWith(`verify-rebuild: ${platform} reproduced`)).length, 2);
  });

  test('orders and notifications, rebuilt from another checkout on the same mechanism (cache allowed): identical', async () => {
    const result = await verify(['--cache', refs.orders, refs.notifications]);
    assert.equal(result.status, 0, result.stdout.slice(-3000) + result.stderr);
    assert.equal(result.stdout.split('\n').filter((l) => l.startsWith('reproduced ')).length, 2, result.stdout);
  });

  test('a file stamped with the build time: not reproduced, and the file is named', async () => {
    // a commit in the clone (same commit time, so the base's clock is the same) whose service image carries the stamp
    const git = gitIn(clone);
    const dockerfile = path.join(clone, 'docker/service/Dockerfile');
    const text = readFileSync(dockerfile, 'utf8')
      .replace('RUN node /usr/local/lib/drop-unused-deps.cjs', 'RUN date +%s%N > /build/build-stamp\nRUN node /usr/local/lib/drop-unused-deps.cjs')
      .replace('COPY --chown=0:0 --chmod=0644 dist/apps/', 'COPY --from=deps /build/build-stamp ./build-stamp\nCOPY --chown=0:0 --chmod=0644 dist/apps/');
    writeFileSync(dockerfile, text);
    const date = git('log', '-1', '--format=%cI');
    const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com' };
    gitIn(clone, { ...env, GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' })('commit', '--quiet', '-am', 'stamp the build time');
    // warm (cheap): the stamp may even come from an earlier run's cache; the verifier's cold rebuild stamps anew
    const stamped = await buildAndPush(clone, registry, 'catalog', { baseRefs, platforms: ['linux/amd64'], warm: true });
    const result = await verify(['--warm-base', stamped], { cwd: clone });
    assert.equal(result.status, 1, result.stdout.slice(-3000) + result.stderr);
    assert.match(result.stdout, /NOT reproduced/);
    console.log(
      result.stdout
        .split('\n')
        .filter((line) => /NOT reproduced|^ {2}(config|layer)|build-stamp/.test(line))
        .join('\n'),
    );
    assert.match(result.stdout, /^ {4}app\/build-stamp: sha256 published [0-9a-f]{64}, rebuilt [0-9a-f]{64}$/m);
    // stderr carries the rebuild's BuildKit log; the tool's own verdict is its last line
    assert.match(result.stderr.trim().split('\n').pop(), /^verify-rebuild: error: the rebuild differs from the published image/);
  });

  test('bad references: one line each, non-zero', async () => {
    const notDigest = await verify([`${registry.host}/repro/catalog:latest`]);
    assert.equal(notDigest.status, 2);
    assert.match(notDigest.stderr.trim(), /^verify-rebuild: error: .* is not <registry>\/<name>@sha256:<64 hex>/);
    const missing = await verify([`${registry.host}/repro/catalog@sha256:${'0'.repeat(64)}`]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr.trim(), /^verify-rebuild: error: [^\n]*no such manifest in the registry$/);
    // an image whose revision label names a commit this repository does not have
    const foreign = `${registry.host}/repro/foreign:1`;
    const context = path.join(scratch, 'foreign');
    mkdirSync(context, { recursive: true });
    writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    await docker([
      'buildx',
      'build',
      '--quiet',
      '--provenance=false',
      '--sbom=false',
      '--label',
      'org.opencontainers.image.title=catalog',
      '--label',
      `org.opencontainers.image.revision=${'ab'.repeat(20)}`,
      '--label',
      'org.opencontainers.image.created=2026-01-01T00:00:00Z',
      '--tag',
      foreign,
      '--load',
      context,
    ]);
    const pushed = await docker(['push', foreign]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed)[1];
    const unknown = await verify([`${registry.host}/repro/foreign@${digest}`]);
    assert.equal(unknown.status, 1, unknown.stderr);
    assert.match(unknown.stderr.trim(), new RegExp(`^verify-rebuild: error: commit ${'ab'.repeat(20)} is not in this repository`));
    assert.equal(unknown.stderr.trim().split('\n').length, 1);
  });
});
