// The local pipeline end to end against a real registry, gated by a real Trivy (with a fixture DB that holds no
// advisory for our packages, and a release index in which our Node.js is current): build each platform once, push by
// digest, scan that digest, tag it in the registry; then check that every tag names exactly the scanned digest on
// every platform built here, and pull back by digest.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../lib/docker-engine.mjs';
import { platformRecordPath, readRecord } from '../../lib/build-record.mjs';
import { builtImage } from '../support/image-inspection.mjs';
import { startLocalRegistry } from '../support/local-registry.mjs';
import { MEDIA_TYPES } from '../../lib/registry.mjs';
import { fixtureTrivyCache, nodeReleaseIndex, trivyBinary } from '../support/real-trivy.mjs';
import { runToolAsync } from '../support/run-tool.mjs';

const SERVICES = ['catalog', 'notifications', 'orders'];
const PLATFORMS = process.env.PIPELINE_TEST_PLATFORMS || 'linux/amd64';

async function manifest(host, repository, reference) {
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${reference}`, { headers: { Accept: Object.values(MEDIA_TYPES).join(', ') } });
  assert.equal(response.status, 200, `GET ${repository}:${reference}`);
  return { digest: response.headers.get('docker-content-digest'), json: await response.json() };
}

describe('local pipeline -> registry round trip (build once, push by digest, gate, tag)', () => {
  let registry;
  let run;
  let scratch;
  const tag = `rt-${process.pid}`;
  before(async () => {
    await requireDocker();
    const trivy = await trivyBinary();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-'));
    const cache = fixtureTrivyCache([], { dir: path.join(scratch, 'trivy') });
    registry = await startLocalRegistry();
    const result = await runToolAsync(
      'tools/pipeline.mjs',
      [
        '--all',
        '--registry',
        `${registry.host}/acme/shop`,
        '--platforms',
        PLATFORMS,
        '--tags',
        `type=raw,value=${tag}\ntype=sha`,
        '--secret',
        'id=npm_token,env=PIPELINE_NPM_TOKEN',
      ],
      {
        env: {
          ...process.env,
          PIPELINE_NPM_TOKEN: '',
          TRIVY_BIN: trivy,
          TRIVY_CACHE_DIR: cache,
          TRIVY_SKIP_DB_UPDATE: 'true',
          NODE_RELEASE_INDEX: nodeReleaseIndex(scratch).file,
        },
      },
    );
    run = { code: result.status, output: `${result.stdout}\n${result.stderr}` };
  });
  after(async () => {
    await registry?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    // The local names the builds got (<registry>/acme/shop/...): only untagged, the layers stay in BuildKit's cache.
    for (const project of ['base-image', ...SERVICES]) {
      try {
        for (const ref of builtImage(project).tags ?? []) if (ref.startsWith(registry?.host ?? '\0')) await docker(['image', 'rm', ref], { reject: false });
      } catch {
        // no record: nothing was built
      }
    }
  });

  test('the pipeline succeeds: every image passed the real Trivy gate and the runtime gate', () => {
    assert.equal(run.code, 0, run.output.slice(-3000));
    for (const project of ['base-image', ...SERVICES]) assert.match(run.output, new RegExp(`scan: ${project}: passed`));
    assert.doesNotMatch(run.output, /SKIPPED/);
  });

  for (const project of ['base-image', ...SERVICES]) {
    test(`${project}: every tag names the scanned digest, on every platform built (${PLATFORMS})`, async () => {
      const record = builtImage(project);
      const repository = `acme/shop/${project}`;
      assert.match(record.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.equal(record.scan.passed, true);
      assert.equal(record.scan.digest, record.digest);
      const tags = await registry.tags(repository);
      assert.ok(tags.includes(tag), `registry has ${tag}: ${tags}`);
      const sha = tags.find((t) => /^sha-[0-9a-f]{7}$/.test(t));
      assert.ok(sha, `registry has a sha tag: ${tags}`);
      for (const name of [tag, sha]) {
        const index = await manifest(registry.host, repository, name);
        assert.equal(index.digest, record.scan.digest, `${name} is the scanned digest`);
        const listed = Object.fromEntries(index.json.manifests.map((m) => [`${m.platform.os}/${m.platform.architecture}`, m.digest]));
        assert.deepEqual(Object.keys(listed).sort(), PLATFORMS.split(',').sort());
        for (const [platform, digest] of Object.entries(listed)) {
          assert.equal(digest, record.scan.platforms[platform].digest, `${name} ${platform} is the scanned platform digest`);
          assert.equal(record.scan.platforms[platform].passed, true);
        }
      }
    });
  }

  // What ships is what was built, bit for bit: the registry's per-platform manifest digest is the one BuildKit wrote
  // (the build record's manifestDigest), which is also what tools/verify-rebuild.mjs compares a rebuild with. That
  // needs BuildKit's own export, which buildx's docker driver makes only on the containerd image store; on the classic
  // store the engine loads the image (record: exporter 'engine') and docker push compresses its layers anew, and the
  // records must say so instead of claiming a digest no rebuild gives.
  for (const project of ['base-image', ...SERVICES]) {
    test(`${project}: the registry serves BuildKit's own manifest on every platform (${PLATFORMS}), or the records say it does not`, async () => {
      const record = builtImage(project);
      const index = await manifest(registry.host, `acme/shop/${project}`, record.digest);
      for (const platform of PLATFORMS.split(',')) {
        const built = readRecord(platformRecordPath(project, platform));
        const served = index.json.manifests.find((m) => `${m.platform.os}/${m.platform.architecture}` === platform);
        assert.equal(record.platforms[platform].digest, served?.digest, `${platform}: push's record names the digest the registry serves`);
        if (built.imageStore === 'classic') {
          assert.equal(built.exporter, 'engine', `${platform}: a classic-store build says the engine exported it`);
          assert.equal(built.manifestDigest, undefined, 'and claims no BuildKit manifest');
          assert.equal(record.platforms[platform].asBuilt, false, `${platform}: push's record says the pushed bytes are not the build's`);
          continue;
        }
        assert.match(built.manifestDigest ?? '', /^sha256:[0-9a-f]{64}$/, `${platform} build record has a manifestDigest`);
        assert.equal(served?.digest, built.manifestDigest, `${platform}: pushed digest is the build's manifestDigest (${built.imageStore} store)`);
        assert.equal((await manifest(registry.host, `acme/shop/${project}`, built.manifestDigest)).digest, built.manifestDigest);
        // and push's record says so: the pushed digest, the build's, and that they are one
        assert.equal(record.platforms[platform].manifestDigest, built.manifestDigest);
        assert.equal(record.platforms[platform].asBuilt, true);
      }
    });
  }

  test('services were built FROM the base digest this run scanned (its layers come first in theirs)', async () => {
    const base = builtImage('base-image');
    for (const platform of PLATFORMS.split(',')) {
      const baseLayers = (await manifest(registry.host, 'acme/shop/base-image', base.platforms[platform].digest)).json.layers.map((l) => l.digest);
      for (const service of SERVICES) {
        const layers = (await manifest(registry.host, `acme/shop/${service}`, builtImage(service).platforms[platform].digest)).json.layers.map((l) => l.digest);
        assert.deepEqual(layers.slice(0, baseLayers.length), baseLayers, `${service} ${platform}`);
      }
    }
  });

  for (const service of SERVICES) {
    test(`${service}: pull by digest gives the built image and labels`, async () => {
      const record = builtImage(service);
      const byDigest = `${registry.host}/acme/shop/${service}@${record.digest}`;
      await docker(['pull', byDigest]);
      const pulled = JSON.parse(await docker(['image', 'inspect', byDigest]))[0];
      // The engine's image ID means another thing in each store (config digest, or the digest pulled by): compare
      // what is the same in both, the config the registry names for the platform and the layers' content.
      const amd64 = record.platforms['linux/amd64'];
      const served = await manifest(registry.host, `acme/shop/${service}`, amd64.digest);
      assert.equal(served.json.config.digest, amd64.configDigest);
      const built = JSON.parse(await docker(['image', 'inspect', amd64.imageId]))[0];
      assert.deepEqual(pulled.RootFS.Layers, built.RootFS.Layers);
      for (const [key, value] of Object.entries(record.labels)) assert.equal(pulled.Config.Labels[key], value, key);
      await docker(['image', 'rm', byDigest], { reject: false });
    });
  }
});
