#!/usr/bin/env node
// Pushes one project's build by digest, with no release tag: each platform's image goes to REPO under a run-scoped
// staging tag (build-<run>-<os>-<arch>; a registry needs some name for a push), then the registry gets the
// multi-platform index of those manifests, stored by its digest. The record (dist/docker/<project>.json) gets that
// `digest` and the per-platform digests, which tools/scan.mjs gates and tools/tag.mjs tags: nothing is rebuilt.
//
// Usage: node tools/push.mjs <project> --image REPO [--platforms P[,P...]] [--run-id ID]
//   --platforms  the builds docker-build wrote with --record dist/docker/<project>.<os>-<arch>.json, one per platform;
//                without it, the project's one local build (dist/docker/<project>.json), whatever its platform
import { fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { docker } from './lib/docker-engine.mjs';
import { platformRecordPath, readRecord, recordPath, writeRecord } from './lib/build-record.mjs';
import { imageIndex, parseImageRef, registryClient } from './lib/registry.mjs';

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

async function localPlatform(imageId) {
  return docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}', imageId]);
}

export async function push(project, { image, platforms = [], run = runId() } = {}) {
  if (!image) fail('say where to push with --image REPO (e.g. ghcr.io/acme/shop/catalog)');
  const repository = image.toLowerCase();
  const { host, repository: name } = parseImageRef(`${repository}:x`);
  const builds = platforms.length
    ? platforms.map((platform) => ({ platform, record: readRecord(platformRecordPath(project, platform)) }))
    : [{ platform: null, record: readRecord(recordPath(project)) }];
  const registry = registryClient(host);
  const pushed = {};
  const stagingTags = [];
  for (const build of builds) {
    const detected = await localPlatform(build.record.imageId);
    // linux/arm64 images usually carry the variant v8: the same platform.
    if (build.platform && detected !== build.platform && detected !== `${build.platform}/v8`)
      fail(`${project}: the ${build.platform} build record holds a ${detected} image`, 1);
    const platform = build.platform ?? detected;
    const staging = `${repository}:build-${run}-${platform.replaceAll('/', '-')}`;
    await docker(['tag', build.record.imageId, staging]);
    const output = await docker(['push', staging]);
    await docker(['image', 'rm', staging], { reject: false });
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
    if (!digest) fail(`pushed ${staging} but docker reported no digest`, 1);
    const manifest = await registry.getManifest(name, digest);
    if (!manifest) fail(`${host} does not serve ${name}@${digest} right after the push`, 1);
    pushed[platform] = {
      digest,
      imageId: build.record.imageId,
      configDigest: build.record.configDigest,
      mediaType: manifest.mediaType,
      size: manifest.bytes.length,
      detected,
    };
    stagingTags.push(staging);
    console.log(`push: ${project} ${platform} ${repository}@${digest} (staging tag ${staging.split(':').pop()})`);
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
