// Pushing a build as BuildKit wrote it (lib/image-tarball.mjs, lib/push-image.mjs, the registry client's blob upload),
// without Docker: a small image in an OCI-layout tarball, as BuildKit's docker exporter writes one, pushed to a real
// registry (Debian's docker-registry on 127.0.0.1), then read back byte for byte. Plus the registry client's
// credentials against a stand-in registry that asks for them, and the tar reader's one-entry-at-a-time streaming.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { c as createTar } from 'tar';
import { platformRecordPath, recordPath } from '../lib/build-record.mjs';
import { CliError } from '../lib/errors.mjs';
import { readBuiltImage, recordTarball } from '../lib/image-tarball.mjs';
import { pushBuiltImage } from '../lib/push-image.mjs';
import { MEDIA_TYPES, registryClient, sha256 } from '../lib/registry.mjs';
import { eachTarEntry, readTarEntries } from '../lib/tar-entries.mjs';
import { record as fixtureRecord } from './support/build-records.mjs';
import { startLocalRegistry } from './support/local-registry.mjs';
import { runToolAsync } from './support/run-tool.mjs';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'push-image-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Writes an image tarball laid out as BuildKit's docker exporter does (oci-layout, index.json, manifest.json,
 * blobs/sha256/<hex>); `change` may alter the blob files before packing. Returns {file, manifestDigest, configDigest,
 * layers: [{digest, bytes}]}.
 */
async function imageTarball(name, { layerSizes = [3 * 1024 * 1024 + 17, 1000], arch = 'amd64', change } = {}) {
  const dir = path.join(scratch, name);
  mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  const blobs = new Map();
  const add = (bytes) => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  };
  const layers = layerSizes.map((size) => ({ bytes: randomBytes(size) }));
  const layerDescriptors = layers.map((layer) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...add(layer.bytes) }));
  layers.forEach((layer, i) => (layer.digest = layerDescriptors[i].digest));
  const config = add(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] } })));
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
      layers: layerDescriptors,
    }),
  );
  const manifest = add(manifestBytes);
  change?.(blobs, { manifest: manifest.digest, config: config.digest, layers: layerDescriptors.map((l) => l.digest) });
  for (const [digest, bytes] of blobs) writeFileSync(path.join(dir, 'blobs/sha256', digest.slice('sha256:'.length)), bytes);
  writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.dockerManifest, ...manifest }] }));
  writeFileSync(path.join(dir, 'manifest.json'), '[]');
  const file = path.join(scratch, `${name}.tar`);
  await createTar({ file, cwd: dir, portable: true }, ['oci-layout', 'index.json', 'manifest.json', 'blobs']);
  return { file, manifestDigest: manifest.digest, configDigest: config.digest, layers };
}

/** The CliError `fn` rejects with: one line, and its text matches `pattern`. */
async function oneLine(fn, pattern) {
  await assert.rejects(fn, (error) => {
    assert.ok(error instanceof CliError, `a CliError, not ${error?.stack}`);
    assert.doesNotMatch(error.message, /\n/);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('the tar reader streams chosen entries one at a time', () => {
  test('entries come in archive order, never two at once, and the rest are skipped', async () => {
    const { file, manifestDigest, layers } = await imageTarball('order');
    const seen = [];
    let active = 0;
    await eachTarEntry(
      file,
      (name) => name.startsWith('blobs/'),
      async (name, entry) => {
        active += 1;
        assert.equal(active, 1, 'one entry at a time');
        let bytes = 0;
        for await (const chunk of entry) {
          bytes += chunk.length;
          await new Promise((resolve) => setTimeout(resolve, 1)); // a slow consumer
        }
        assert.equal(bytes, entry.size);
        seen.push(name);
        active -= 1;
      },
    );
    assert.equal(seen.length, 4); // 2 layers, config, manifest
    assert.ok(seen.includes(`blobs/sha256/${manifestDigest.slice(7)}`));
    assert.ok(seen.includes(`blobs/sha256/${layers[0].digest.slice(7)}`));
  });

  test("a handler's error stops the read and is the result", async () => {
    const { file } = await imageTarball('stop');
    let calls = 0;
    await assert.rejects(
      eachTarEntry(
        file,
        (name) => name.startsWith('blobs/'),
        async () => {
          calls += 1;
          throw new Error('refused');
        },
      ),
      /refused/,
    );
    assert.equal(calls, 1);
  });

  test('not a tar archive: an error, not an empty result', async () => {
    const file = path.join(scratch, 'not-a.tar');
    writeFileSync(file, `${'{"not": "a tar archive"}\n'.repeat(100)}`);
    await assert.rejects(readTarEntries(file, ['index.json']));
  });
});

describe("readBuiltImage: the build's manifest, config and blobs, checked against the record", () => {
  test('finds the manifest by the record’s manifestDigest and lists config and layers once each', async () => {
    const built = await imageTarball('read', { arch: 'arm64' });
    const image = await readBuiltImage(built.file, built);
    assert.equal(image.manifest.digest, built.manifestDigest);
    assert.equal(sha256(image.manifest.bytes), built.manifestDigest);
    assert.equal(image.manifest.mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(image.platform, 'linux/arm64');
    assert.deepEqual(
      image.blobs.map((b) => b.digest),
      [built.configDigest, ...built.layers.map((l) => l.digest)],
    );
  });

  test('the record names the tarball relative to its own folder', () => {
    assert.equal(recordTarball('/w/dist/docker/catalog.linux-amd64.json', { tarball: 'catalog.linux-amd64.tar' }), '/w/dist/docker/catalog.linux-amd64.tar');
    assert.equal(recordTarball('/w/dist/docker/catalog.json', {}), null);
  });

  test('refused in one line: no tarball, another build’s manifest, another config, a damaged manifest, not a tarball', async () => {
    const built = await imageTarball('refusals');
    await oneLine(() => readBuiltImage(path.join(scratch, 'gone.tar'), built), /^no .*gone\.tar: the build's image tarball is gone; rebuild the image/);
    await oneLine(
      () => readBuiltImage(built.file, { ...built, manifestDigest: `sha256:${'a'.repeat(64)}` }),
      /does not hold the manifest sha256:a{64}: it is not this build's/,
    );
    await oneLine(
      () => readBuiltImage(built.file, { ...built, configDigest: `sha256:${'b'.repeat(64)}` }),
      /names the config sha256:[0-9a-f]{64}, the build record sha256:b{64}/,
    );
    await oneLine(() => readBuiltImage(built.file, { configDigest: built.configDigest }), /has no manifestDigest/);
    const damaged = await imageTarball('damaged', { change: (blobs, { manifest }) => blobs.set(manifest, Buffer.from('{"schemaVersion":2}')) });
    await oneLine(() => readBuiltImage(damaged.file, damaged), /the manifest sha256:[0-9a-f]{64} hashes to sha256:[0-9a-f]{64} \(a damaged tarball/);
    const notTar = path.join(scratch, 'image-not-tar.tar');
    writeFileSync(notTar, 'x'.repeat(2048));
    await oneLine(() => readBuiltImage(notTar, built), /is not a readable image tarball/);
  });
});

describe('pushBuiltImage: the registry serves the build’s own bytes under the build’s digest', () => {
  let registry;
  before(async () => {
    registry = await startLocalRegistry();
  });
  after(() => registry?.stop());

  test('uploads every blob streamed from the tarball, then the manifest; the digest is the build’s manifestDigest', async () => {
    const built = await imageTarball('push');
    const image = await readBuiltImage(built.file, built);
    const client = registryClient(registry.host);
    const pushed = await pushBuiltImage(client, 'acme/push', image, { tag: 'build-1-linux-amd64' });
    assert.deepEqual(pushed, { digest: built.manifestDigest, uploaded: 3, skipped: 0 });
    const served = await client.getManifest('acme/push', 'build-1-linux-amd64');
    assert.equal(served.digest, built.manifestDigest, 'the staging tag names the build’s manifest');
    assert.deepEqual(served.bytes, image.manifest.bytes, 'byte for byte');
    for (const layer of built.layers) assert.deepEqual(await client.getBlob('acme/push', layer.digest), layer.bytes);
    assert.ok(await client.hasBlob('acme/push', built.configDigest));
  });

  test('blobs the repository has are not uploaded again (HEAD first)', async () => {
    const built = await imageTarball('push-again');
    const image = await readBuiltImage(built.file, built);
    const client = registryClient(registry.host);
    assert.equal((await pushBuiltImage(client, 'acme/again', image)).uploaded, 3);
    assert.deepEqual(await pushBuiltImage(client, 'acme/again', image), { digest: built.manifestDigest, uploaded: 0, skipped: 3 });
  });

  test('a tarball without a blob its manifest names: one line, and no manifest in the registry', async () => {
    const built = await imageTarball('push-missing', { change: (blobs, { layers }) => blobs.delete(layers[1]) });
    const image = await readBuiltImage(built.file, built);
    const client = registryClient(registry.host);
    await oneLine(
      () => pushBuiltImage(client, 'acme/missing', image),
      /does not hold blobs\/sha256\/[0-9a-f]{64}, which its manifest names: rebuild the image/,
    );
    assert.equal(await client.getManifest('acme/missing', built.manifestDigest), null);
  });

  test('a registry refusing an upload (bytes that are not the digest): one line with its reason', async () => {
    const client = registryClient(registry.host);
    const bytes = Buffer.from('not what the digest says');
    await oneLine(
      () => client.uploadBlob('acme/refused', { digest: `sha256:${'c'.repeat(64)}`, size: bytes.length, body: Readable.from([bytes]) }),
      /^registry 127\.0\.0\.1:\d+: upload of sha256:c{64} to acme\/refused refused: HTTP 400 .*DIGEST_INVALID/,
    );
  });
});

describe('registry credentials for uploads (a stand-in registry that asks for them)', () => {
  const user = 'ci-bot';
  const password = `s3cret-${process.pid}`;
  let registryServer;
  let foreignServer;
  let config;
  const seen = [];
  const foreign = [];
  const store = new Map();

  before(async () => {
    // the second origin an upload session may be sent to (some registries hand uploads to storage elsewhere)
    foreignServer = http.createServer((req, res) => {
      foreign.push({ method: req.method, authorization: req.headers.authorization ?? null });
      req.resume();
      req.on('end', () => res.writeHead(201).end());
    });
    await new Promise((resolve) => foreignServer.listen(0, '127.0.0.1', resolve));
    registryServer = http.createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null });
      if (req.url.startsWith('/token')) {
        const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
        if (req.headers.authorization !== basic) return res.writeHead(401).end();
        return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: 'tkn' }));
      }
      if (req.headers.authorization !== 'Bearer tkn') {
        const realm = `http://127.0.0.1:${registryServer.address().port}/token`;
        return res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${realm}",service="stand-in"` }).end();
      }
      const url = new URL(req.url, 'http://x');
      if (req.method === 'HEAD') return res.writeHead(store.has(url.pathname.split('/').pop()) ? 200 : 404).end();
      if (req.method === 'POST') {
        const to = url.pathname.includes('/elsewhere/') ? `http://127.0.0.1:${foreignServer.address().port}/upload/1` : `/v2/acme/app/blobs/uploads/1`;
        return res.writeHead(202, { Location: to }).end();
      }
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const digest = url.searchParams.get('digest');
        const bytes = Buffer.concat(chunks);
        if (sha256(bytes) !== digest || Number(req.headers['content-length']) !== bytes.length)
          return res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
        store.set(digest, bytes);
        res.writeHead(201, { 'Docker-Content-Digest': digest }).end();
      });
    });
    await new Promise((resolve) => registryServer.listen(0, '127.0.0.1', resolve));
    config = path.join(scratch, 'docker-config');
    mkdirSync(config, { recursive: true });
    const host = `127.0.0.1:${registryServer.address().port}`;
    writeFileSync(path.join(config, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  });
  after(() => {
    registryServer?.close();
    foreignServer?.close();
  });

  const withConfig = (fn) => async () => {
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = config;
    try {
      await fn();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  };

  test(
    "docker login's credentials get a bearer token once; the streamed PUT carries it and Content-Length",
    withConfig(async () => {
      const client = registryClient(`127.0.0.1:${registryServer.address().port}`);
      const bytes = randomBytes(200_000);
      const digest = sha256(bytes);
      assert.equal(await client.hasBlob('acme/app', digest), false);
      assert.equal(
        await client.uploadBlob('acme/app', { digest, size: bytes.length, body: Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)]) }),
        digest,
      );
      assert.deepEqual(store.get(digest), bytes);
      assert.equal(seen.filter((r) => r.url.startsWith('/token')).length, 1, 'one token for HEAD, POST and PUT (same scope)');
      const put = seen.find((r) => r.method === 'PUT');
      assert.equal(put.authorization, 'Bearer tkn');
      assert.ok(
        seen.every((r) => !r.url.startsWith('/v2/') || r.authorization === null || r.authorization === 'Bearer tkn'),
        'basic auth only to the token realm',
      );
    }),
  );

  test(
    'an upload session on another origin gets no credentials',
    withConfig(async () => {
      const client = registryClient(`127.0.0.1:${registryServer.address().port}`);
      const bytes = Buffer.from('layer');
      await client.uploadBlob('acme/elsewhere', { digest: sha256(bytes), size: bytes.length, body: Readable.from([bytes]) });
      assert.deepEqual(foreign, [{ method: 'PUT', authorization: null }]);
    }),
  );

  test('without auths for the host, the credential helper config.json names (credsStore) gives them', async () => {
    const host = `127.0.0.1:${registryServer.address().port}`;
    const helperConfig = path.join(scratch, 'docker-config-helper');
    const bin = path.join(scratch, 'bin');
    mkdirSync(helperConfig, { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(helperConfig, 'config.json'), JSON.stringify({ auths: { [host]: {} }, credsStore: 'standin' }));
    // a helper as docker's protocol has it: the host on stdin, {ServerURL, Username, Secret} on stdout
    writeFileSync(
      path.join(bin, 'docker-credential-standin'),
      `#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = "${host}" ] || exit 1\necho '{"ServerURL":"${host}","Username":"${user}","Secret":"${password}"}'\n`,
      { mode: 0o755 },
    );
    const saved = { DOCKER_CONFIG: process.env.DOCKER_CONFIG, PATH: process.env.PATH, TOOLS_VERBOSE: process.env.TOOLS_VERBOSE };
    Object.assign(process.env, { DOCKER_CONFIG: helperConfig, PATH: `${bin}:${process.env.PATH}` });
    try {
      const tokenRequests = seen.filter((r) => r.url.startsWith('/token')).length;
      const bytes = Buffer.from('helper layer');
      await registryClient(host).uploadBlob('acme/app', { digest: sha256(bytes), size: bytes.length, body: Readable.from([bytes]) });
      assert.equal(seen.filter((r) => r.url.startsWith('/token')).length, tokenRequests + 1, 'the helper’s credentials got a token');
      assert.deepEqual(store.get(sha256(bytes)), bytes);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  test(
    'a failure names the registry and the call, never the credentials',
    withConfig(async () => {
      const client = registryClient(`127.0.0.1:${registryServer.address().port}`);
      const bytes = Buffer.from('some bytes');
      await assert.rejects(
        () => client.uploadBlob('acme/app', { digest: sha256(Buffer.from('other')), size: bytes.length, body: Readable.from([bytes]) }),
        (error) => {
          assert.match(error.message, /refused: HTTP 400 .*DIGEST_INVALID/);
          assert.doesNotMatch(error.message, new RegExp(`${password}|${Buffer.from(`${user}:${password}`).toString('base64')}|tkn`));
          return true;
        },
      );
    }),
  );
});

describe('push CLI: every platform from its build tarball, as built', () => {
  const project = `push-test-${process.pid}`;
  const files = [];
  let registry;
  const writeBuild = (platform, built, extra = {}) => {
    const file = platform ? platformRecordPath(project, platform) : recordPath(project);
    mkdirSync(path.dirname(file), { recursive: true });
    const record = {
      ...fixtureRecord(project, undefined, { imageId: built?.configDigest ?? `sha256:${'f'.repeat(64)}` }),
      configDigest: built?.configDigest,
      manifestDigest: built?.manifestDigest,
      ...(built ? { tarball: built.file } : {}),
      ...extra,
    };
    writeFileSync(file, JSON.stringify(record));
    files.push(file);
  };
  before(async () => {
    registry = await startLocalRegistry();
  });
  after(async () => {
    await registry?.stop();
    for (const file of [...files, recordPath(project)]) rmSync(file, { force: true });
  });

  test('pushes each platform under its staging tag and the index; the record says each digest is the build’s', async () => {
    const amd64 = await imageTarball('cli-amd64');
    const arm64 = await imageTarball('cli-arm64', { arch: 'arm64' });
    writeBuild('linux/amd64', amd64);
    writeBuild('linux/arm64', arm64);
    const image = `${registry.host}/acme/${project}`;
    const r = await runToolAsync('tools/push.mjs', [project, '--image', image, '--platforms', 'linux/amd64,linux/arm64', '--run-id', 'r1']);
    assert.equal(r.status, 0, r.stderr);
    const record = JSON.parse(readFileSync(recordPath(project), 'utf8'));
    for (const [platform, built] of [
      ['linux/amd64', amd64],
      ['linux/arm64', arm64],
    ]) {
      assert.equal(record.platforms[platform].digest, built.manifestDigest, platform);
      assert.equal(record.platforms[platform].manifestDigest, built.manifestDigest);
      assert.equal(record.platforms[platform].asBuilt, true);
    }
    const client = registryClient(registry.host);
    const index = await client.getManifest(`acme/${project}`, record.digest);
    assert.deepEqual(
      index.json.manifests.map((m) => m.digest),
      [amd64.manifestDigest, arm64.manifestDigest],
    );
    assert.equal((await client.getManifest(`acme/${project}`, 'build-r1-linux-arm64')).digest, arm64.manifestDigest);
    assert.match(
      r.stdout,
      /push: push-test-\d+ linux\/amd64 .*@sha256:[0-9a-f]{64} as built \(3 blobs uploaded, 0 already there; staging tag build-r1-linux-amd64\)/,
    );
  });

  for (const [name, setUp, status, message] of [
    ['a record without a tarball', () => writeBuild(null, null), 2, /names no image tarball .*: rebuild it with node tools\/docker-build\.mjs/],
    [
      'a tarball that is gone',
      () => writeBuild(null, { file: path.join(scratch, 'gone.tar'), manifestDigest: `sha256:${'1'.repeat(64)}` }),
      1,
      /the build's image tarball is gone/,
    ],
    [
      'another platform than the record says',
      async () => writeBuild('linux/amd64', await imageTarball('cli-wrong', { arch: 'arm64' })),
      1,
      /the linux\/amd64 build record holds a linux\/arm64 image/,
    ],
  ]) {
    test(`refused in one line before any upload: ${name}`, async () => {
      await setUp();
      const args = [project, '--image', `${registry.host}/acme/${project}-refused`, ...(name.includes('platform') ? ['--platforms', 'linux/amd64'] : [])];
      const r = await runToolAsync('tools/push.mjs', args);
      assert.equal(r.status, status, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.deepEqual(await registry.tags(`acme/${project}-refused`), []);
    });
  }
});
