// One buildx invocation for both platforms, or one per platform? The pipeline builds each platform on its own
// (tools/build-platforms.mjs: one record and one loaded image per platform, which both image stores can hold, then
// push by digest and an index). This measures what that costs against a single
// `--platform linux/amd64,linux/arm64` invocation for one service (catalog) built FROM the same multi-platform base in
// a local registry, as on a fresh CI runner: the builder's cache pruned before each way (npm cache mount included),
// and no --no-cache, so the second per-platform build reuses what the first built on the build platform (the npm
// install stage), as the pipeline does. The two ways interleaved, ROUNDS times, each figure the median.
// It prunes the engine's whole build cache (docker builder prune): run it on a machine with nothing else building.
// Usage: node bench/multiplatform.mjs [--rounds N]   (after the base images are built for both architectures)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { BASE_PROJECT, imagePrefix } from '../tools/lib/defaults.cjs';
import { readRecord } from '../tools/lib/build-record.mjs';
import { docker, requireDocker } from '../tools/lib/docker-engine.mjs';
import { imageIndex, registryClient } from '../tools/lib/registry.mjs';
import { startLocalRegistry } from '../tools/test/support/local-registry.mjs';
import { dockerBuild } from '../tools/test/support/run-tool.mjs';

const SERVICE = 'catalog';
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

/** The base built for each platform (BuildKit's cache makes this cheap) and pushed to `registry` as one index. */
async function pushBaseIndex(registry, dir) {
  const repository = 'bench/base-image';
  const client = registryClient(registry.host);
  const entries = [];
  for (const platform of PLATFORMS) {
    const file = path.join(dir, `base-${platform.split('/')[1]}.json`);
    await dockerBuild([BASE_PROJECT, '--platform', platform, '--image', `${imagePrefix()}-bench/${BASE_PROJECT}`, '--record', file]);
    const ref = `${registry.host}/${repository}:${platform.split('/')[1]}`;
    await docker(['tag', readRecord(file).imageId, ref]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(await docker(['push', ref]))?.[1];
    const manifest = await client.getManifest(repository, digest);
    entries.push({ platform, digest, mediaType: manifest.mediaType, size: manifest.bytes.length });
  }
  const index = imageIndex(entries);
  await client.putManifest(repository, index.digest, index.bytes, index.mediaType);
  return `${registry.host}/${repository}@${index.digest}`;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(fn) {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

export async function multiPlatformBench({ rounds = 2 } = {}) {
  await requireDocker();
  const registry = await startLocalRegistry();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-multiplatform-'));
  try {
    const base = await pushBaseIndex(registry, dir);
    const image = `${imagePrefix()}-bench/${SERVICE}`;
    const common = [SERVICE, '--image', image, '--build-arg', `BASE_IMAGE=${base}`];
    const coldCache = () => docker(['builder', 'prune', '--all', '--force']);
    const perPlatform = [];
    const oneInvocation = [];
    for (let round = 0; round < rounds; round++) {
      await coldCache();
      perPlatform.push(
        await timed(async () => {
          for (const platform of PLATFORMS)
            await dockerBuild([...common, '--platform', platform, '--record', path.join(dir, `${platform.split('/')[1]}.json`)]);
        }),
      );
      await coldCache();
      oneInvocation.push(await timed(() => dockerBuild([...common, '--platform', PLATFORMS.join(','), '--record', path.join(dir, 'both.json')])));
    }
    return { rounds, perPlatform: median(perPlatform), oneInvocation: median(oneInvocation), samples: { perPlatform, oneInvocation } };
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printMultiPlatformBench(result) {
  console.log(`\n${SERVICE}, both platforms, from an empty build cache (median of ${result.rounds}, interleaved):`);
  console.log(`  one buildx invocation per platform: ${result.perPlatform.toFixed(1)} s   (${result.samples.perPlatform.map((s) => s.toFixed(1)).join(', ')})`);
  console.log(
    `  one invocation for both:            ${result.oneInvocation.toFixed(1)} s   (${result.samples.oneInvocation.map((s) => s.toFixed(1)).join(', ')})`,
  );
  console.log(`  per platform / one invocation: ${(result.perPlatform / result.oneInvocation).toFixed(2)}x`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
  printMultiPlatformBench(await multiPlatformBench({ rounds: Number(values.rounds) }));
}
