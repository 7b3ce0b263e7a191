// Every service image, as built by `nx run-many -t docker-build`, proven hardened on the image itself; then every
// service cross-built for the foreign architecture (arm64 here) with the qemu binfmt handler off, and its structure and
// health checked under emulation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../../tools/lib/docker-engine.mjs';
import { builtImage, imageFiles, inspectImage, waitForHealth } from '../../../tools/test/support/image-inspection.mjs';
import { workspaceRoot } from '../../../tools/lib/workspace.mjs';
import { FOREIGN, buildForeign, holdEmulation, requireEmulation, withoutEmulation } from '../../base/test/support/foreign-arch.mjs';
import { FRAMEWORKS, listServices } from '../../../tools/lib/services.mjs';

// Every service as declared in its project.json (framework tag, metadata.port, metadata.calls).
// SERVICE_IMAGES=a,b checks only those (the generator's e2e test checks the services it generated).
const FACTS = listServices();
const ONLY = process.env.SERVICE_IMAGES
  ? process.env.SERVICE_IMAGES.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : null;
const unknownOnly = (ONLY ?? []).filter((name) => !FACTS.some((s) => s.name === name));
if (unknownOnly.length) throw new Error(`SERVICE_IMAGES names no service: ${unknownOnly.join(', ')}`);
const SERVICES = FACTS.map((s) => s.name).filter((name) => !ONLY || ONLY.includes(name));
const factsOf = (name) => FACTS.find((s) => s.name === name);
const FORBIDDEN = ['/bin/sh', '/bin/bash', '/usr/bin/apt', '/usr/bin/apt-get', '/usr/bin/dpkg', '/usr/local/bin/npm', '/usr/local/bin/npx'];
const OCI_LABELS = ['title', 'description', 'version', 'revision', 'source', 'created', 'licenses'].map((k) => `org.opencontainers.image.${k}`);
const HARDENED_RUN = ['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--tmpfs', '/tmp:rw,noexec,nosuid,size=16m'];

const network = `svc-images-${process.pid}`;
const containers = [];

async function runHardened(name, ref, env = {}, extra = []) {
  const container = `${network}-${name}`;
  const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await docker(['run', '-d', '--name', container, '--network', network, '--network-alias', name, ...HARDENED_RUN, ...extra, ...envFlags, ref]);
  containers.push(container);
  return container;
}

/**
 * The service's container for a variant (hardened), started once: a service that calls others is ready only while
 * they answer, so each one it calls runs first on the same network under its own alias (reused when its test comes).
 */
async function ensureRunning(name, variant) {
  const alias = `${name}-${variant.name}`;
  const container = `${network}-${alias}`;
  if (containers.includes(container)) return container;
  const env = {};
  for (const callee of factsOf(name).calls) {
    await ensureRunning(callee, variant);
    env[`${callee.toUpperCase().replace(/-/g, '_')}_URL`] = `http://${callee}-${variant.name}:${factsOf(callee).port}`;
  }
  return runHardened(alias, variant.record(name).tags[0], env, variant.runFlags);
}

before(async () => {
  await requireDocker();
  await docker(['network', 'create', network]);
});
after(async () => {
  for (const container of containers) await docker(['rm', '-f', container], { reject: false });
  await docker(['network', 'rm', network], { reject: false });
});

test('there are at least three service images to check (or exactly the SERVICE_IMAGES asked for)', () => {
  if (ONLY) assert.deepEqual([...SERVICES].sort(), [...ONLY].sort());
  else assert.ok(SERVICES.length >= 3, SERVICES.join(', '));
});

function serviceTests(service, variant) {
  describe(`${service} image (${variant.name})`, () => {
    let record;
    let config;
    let files;
    let release;
    before(async () => {
      // its tests run the image: no other process may switch the handler off until they are done
      if (variant.emulated) release = await holdEmulation();
      record = variant.record(service);
      config = await inspectImage(record.tags[0]);
      files = await imageFiles(record.tags[0]);
    });
    after(() => release?.());

    test('runs as 65532:65532', () => assert.equal(config.Config.User, '65532:65532'));

    test('has no shell, apt, dpkg, npm or npx', () => {
      const paths = new Set(files.map((f) => f.path));
      assert.deepEqual(
        FORBIDDEN.filter((p) => paths.has(p)),
        [],
      );
    });

    test('has no setuid or setgid files', () => {
      assert.deepEqual(
        files.filter((f) => f.type === 'File' && f.mode & 0o6000).map((f) => f.path),
        [],
      );
    });

    test('ships only the bundle, its package.json and production node_modules in /app', () => {
      const top = [...new Set(files.filter((f) => f.path.startsWith('/app/')).map((f) => f.path.split('/')[2]))].sort();
      assert.deepEqual(top, ['main.js', 'node_modules', 'package.json']);
      assert.equal(
        files.some((f) => /\/app\/.*\.(ts|map)$/.test(f.path) && !f.path.endsWith('.d.ts')),
        false,
        'no sources or source maps',
      );
    });

    if (variant.full)
      test('installs exactly the npm packages the bundle requires, and declares just those', async () => {
        const bundle = readFileSync(path.join(workspaceRoot, 'dist/apps', service, 'main.js'), 'utf8');
        const required = new Set([...bundle.matchAll(/require\(["']((?:@[^/"']+\/)?[^/"'.][^/"']*)/g)].map((m) => m[1]).filter((n) => !n.startsWith('node:')));
        const manifest = JSON.parse(
          await docker(['run', '--rm', '--entrypoint', '/usr/local/bin/node', record.tags[0], '-p', "require('fs').readFileSync('/app/package.json','utf8')"]),
        );
        assert.deepEqual(Object.keys(manifest.dependencies ?? {}).sort(), [...required].sort());
        for (const name of required)
          assert.ok(
            files.some((f) => f.path === `/app/node_modules/${name}/package.json`),
            `${name} installed`,
          );
        for (const other of Object.keys(FRAMEWORKS).filter((f) => f !== factsOf(service).framework)) {
          assert.equal(
            files.some((f) => f.path === `/app/node_modules/${other}`),
            false,
            `no ${other} in a ${factsOf(service).framework} service`,
          );
        }
      });

    test('carries the OCI labels', () => {
      const labels = config.Config.Labels ?? {};
      assert.deepEqual(
        OCI_LABELS.filter((key) => !labels[key]),
        [],
      );
      assert.equal(labels['org.opencontainers.image.title'], record.labels['org.opencontainers.image.title']);
    });

    if (variant.healthy(service))
      test('becomes healthy with a read-only root, no capabilities and no-new-privileges', async () => {
        const container = await ensureRunning(service, variant);
        const status = await waitForHealth(container, { timeoutMs: variant.full ? 90_000 : 180_000 });
        const logs = status === 'healthy' ? '' : (await docker(['logs', '--tail', '20', container], { reject: false })).stderr;
        assert.equal(status, 'healthy', logs);
      });
  });
}

const native = { name: 'native', full: true, healthy: () => true, runFlags: [], record: (service) => builtImage(service) };
for (const service of SERVICES) serviceTests(service, native);

// The foreign architecture: built here (BuildKit's cache makes the base cheap when docker/base/test built it already).
const foreignRecords = {};
// Under qemu a Node.js start takes seconds: the image's own healthcheck command, with room for emulation's slowness.
// Structure checks for every service; health for one (catalog: each emulated container costs a minute of CI).
const foreign = {
  name: FOREIGN.arch,
  emulated: true,
  full: false,
  healthy: (service) => service === 'catalog',
  runFlags: ['--health-timeout', '30s', '--health-interval', '5s', '--health-start-period', '60s'],
  record: (service) => foreignRecords[service],
};
describe(`${FOREIGN.arch} images are cross-built with the binfmt handler off`, () => {
  test(`base and every service build for ${FOREIGN.platform} without emulation`, async () => {
    requireEmulation();
    await withoutEmulation(async () => {
      await buildForeign('base-image');
      for (const service of SERVICES) foreignRecords[service] = await buildForeign(service);
    });
    for (const service of SERVICES) {
      const config = await inspectImage(foreignRecords[service].tags[0]);
      assert.equal(config.Architecture, FOREIGN.arch, service);
      assert.equal(foreignRecords[service].platform, FOREIGN.platform);
    }
  });
});
for (const service of SERVICES) serviceTests(service, foreign);
