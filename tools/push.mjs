#!/usr/bin/env node
// Pushes one project's build by digest, with no release tag: each platform's image goes to REPO under a run-scoped
// staging tag (build-<run>-<os>-<arch>; a registry needs some name for a push), then the registry gets the
// multi-platform index of those manifests, stored by its digest. The record (dist/docker/<project>.json) gets that
// `digest` and the per-platform digests, which tools/scan.mjs gates and tools/tag.mjs tags: nothing is rebuilt.
// What goes up is the build's own tarball (the record's `tarball`, BuildKit's bytes), through the registry API, not
// `docker push`: the classic image store's push recompresses the layers, and the registry's digest would then not be
// the build's manifestDigest, the one tools/verify-rebuild.mjs reproduces. So every platform's pushed digest is the
// build's manifestDigest, or the push stops before it starts. A build the engine loaded itself (docker-build on a
// classic image store with buildx's docker driver: record `exporter: 'engine'`, no tarball) is pushed with `docker
// push`; its per-platform record says `asBuilt: false` (the registry's digest is docker push's, no rebuild gives it).
//
// Usage: node tools/push.mjs <project> --image REPO [--platforms P[,P...]] [--run-id ID]
//   --platforms  the builds docker-build wrote with --record dist/docker/<project>.<os>-<arch>.json, one per platform;
//                without it, the project's one local build (dist/docker/<project>.json), whatever its platform
import path from 'node:path';
import { fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { platformRecordPath, readRecord, recordPath, writeRecord } from './lib/build-record.mjs';
import { docker } from './lib/docker-engine.mjs';
import { readBuiltImage, recordTarball } from './lib/image-tarball.mjs';
import { pushBuiltImage } from './lib/push-image.mjs';
import { imageIndex, parseImageRef, registryClient } from './lib/registry.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

const PLATFORM = /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/;

export function parsePlatforms(value) {
  const platforms = [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  ];
  for (const platform of platforms) if (!PLATFORM.test(platform)) fail(`invalid platform '${platform}' (expected os/arch, e.g. linux/arm64)`);
  return platforms;
}

/** A run-scoped name: GitHub's run id (and attempt) in Actions, a timestamp locally. */
export function runId(env = process.env) {
  if (env.GITHUB_RUN_ID) return `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT || '1'}`;
  return `local-${Date.now().toString(36)}`;
}

/** A build the engine loaded (exporter 'engine'), pushed by docker push under `ref`; its registry manifest's digest. */
async function pushFromEngine(build, ref, registry, name) {
  await docker(['tag', build.record.imageId, ref]);
  const output = await docker(['push', ref]);
  await docker(['image', 'rm', ref], { reject: false });
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
  if (!digest) fail(`pushed ${ref} but docker reported no digest`, 1);
  const manifest = await registry.getManifest(name, digest);
  if (!manifest) fail(`${ref}: the registry does not serve ${digest} right after the push`, 1);
  return { digest, manifest };
}

/** The os/arch[/variant] of a local image. */
const localPlatform = (imageId) => docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}', imageId]);

/** The build's image as BuildKit exported it, checked against its record; a record without one is one line. */
async function builtImageOf(project, { file, record }) {
  const tarball = recordTarball(file, record);
  if (!tarball)
    fail(
      `${project}: ${path.relative(workspaceRoot, file)} names no image tarball (a build pushed by buildx, or by an older docker-build): rebuild it with node tools/docker-build.mjs ${project}`,
    );
  return readBuiltImage(tarball, { manifestDigest: record.manifestDigest, configDigest: record.configDigest });
}

export async function push(project, { image, platforms = [], run = runId() } = {}) {
  if (!image) fail('say where to push with --image REPO (e.g. ghcr.io/acme/shop/catalog)');
  const repository = image.toLowerCase();
  const { host, repository: name } = parseImageRef(`${repository}:x`);
  const builds = (platforms.length ? platforms.map((platform) => [platform, platformRecordPath(project, platform)]) : [[null, recordPath(project)]]).map(
    ([platform, file]) => ({ platform, file, record: readRecord(file) }),
  );
  // every tarball read and checked before anything goes up: a stale or foreign one stops the push, not half of it
  for (const build of builds) {
    build.fromEngine = build.record.exporter === 'engine';
    build.image = build.fromEngine ? null : await builtImageOf(project, build);
    build.detected = build.image?.platform ?? (await localPlatform(build.record.imageId));
    // linux/arm64 images usually carry the variant v8: the same platform.
    if (build.platform && build.detected !== build.platform && build.detected !== `${build.platform}/v8`)
      fail(`${project}: the ${build.platform} build record holds a ${build.detected} image`, 1);
  }
  const registry = registryClient(host);
  const pushed = {};
  const stagingTags = [];
  for (const { platform: wanted, record: build, image, fromEngine, detected } of builds) {
    const platform = wanted ?? detected;
    const staging = `build-${run}-${platform.replaceAll('/', '-')}`;
    if (fromEngine) {
      const { digest, manifest } = await pushFromEngine({ record: build }, `${repository}:${staging}`, registry, name);
      pushed[platform] = {
        digest,
        asBuilt: false,
        imageId: build.imageId,
        configDigest: build.configDigest,
        mediaType: manifest.mediaType,
        size: manifest.bytes.length,
        detected,
      };
      console.log(
        `push: ${project} ${platform} ${repository}@${digest} by docker push from the classic image store (layers compressed anew: not reproducible; staging tag ${staging})`,
      );
    } else {
      const { digest, uploaded, skipped } = await pushBuiltImage(registry, name, image, { tag: staging });
      // readBuiltImage hashed the manifest to the build's digest and the registry stored those bytes: this cannot
      // differ unless a registry rewrites manifests, and then what ships would not be what was built
      if (digest !== build.manifestDigest) fail(`${project} ${platform}: ${host} stored ${digest}, not the build's manifestDigest ${build.manifestDigest}`, 1);
      pushed[platform] = {
        digest,
        // the build's own digest, for the reader: the pushed one is it (what verify-rebuild compares a rebuild with)
        manifestDigest: build.manifestDigest,
        asBuilt: true,
        imageId: build.imageId,
        configDigest: build.configDigest,
        mediaType: image.manifest.mediaType,
        size: image.manifest.bytes.length,
        detected,
      };
      console.log(
        `push: ${project} ${platform} ${repository}@${digest} as built (${uploaded} blobs uploaded, ${skipped} already there; staging tag ${staging})`,
      );
    }
    stagingTags.push(`${repository}:${staging}`);
  }
  const index = imageIndex(Object.values(pushed).map(({ detected, digest, mediaType, size }) => ({ platform: detected, digest, mediaType, size })));
  await registry.putManifest(name, index.digest, index.bytes, index.mediaType);
  const first = builds[0].record;
  // A fresh push replaces any earlier scan or tag result: those were about another digest.
  const built = { ...first };
  delete built.scan;
  delete built.pushed;
  const record = writeRecord(recordPath(project), {
    ...built,
    digest: index.digest,
    platforms: pushed,
    pushed: { image: repository, digest: index.digest, tags: [], staging: stagingTags },
  });
  console.log(`push: ${project} ${repository}@${index.digest} (${Object.keys(pushed).join(', ')}; not tagged until the scan passes)`);
  return record;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({
      options: { image: { type: 'string' }, platforms: { type: 'string' }, 'run-id': { type: 'string' } },
      allowPositionals: true,
    });
    if (values['run-id'] !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/.test(values['run-id'])) fail(`invalid --run-id '${values['run-id']}'`);
    await push(projectArgument(positionals, 'node tools/push.mjs catalog --image ghcr.io/acme/shop/catalog'), {
      image: values.image,
      platforms: parsePlatforms(values.platforms),
      run: values['run-id'] ?? runId(),
    });
  });
}
