// Cross-platform benchmark: the base image and one service (catalog) built from scratch (--no-cache) for linux/amd64
// and linux/arm64 on this machine, in the same run, and each image's compressed size (gzip of `docker save`, about
// what a registry stores). Goal (issue #10): arm64 within 1.5x of amd64, since nothing is emulated; the service's
// compressed size must not grow (about 1 MB above the base).
// Builds go to <IMAGE_PREFIX>-bench/* with records in a temporary directory: the workspace's own records stay.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createGzip } from 'node:zlib';
import { dockerEnv, requireDocker } from '../tools/lib/docker-engine.mjs';
import { BASE_PROJECT, imagePrefix } from '../tools/lib/defaults.cjs';
import { $ } from '../tools/lib/process.mjs';
import { dockerBuild } from '../tools/test/support/run-tool.mjs';

const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const SERVICE = 'catalog';

/** Bytes of `docker save <ref>` after gzip. */
async function compressedSize(ref) {
  const toolchain = await requireDocker();
  let bytes = 0;
  const gzip = createGzip();
  const counted = new Promise((resolve, reject) =>
    gzip
      .on('data', (chunk) => (bytes += chunk.length))
      .on('end', resolve)
      .on('error', reject),
  );
  const save = $({ env: dockerEnv(toolchain) })`${toolchain.client} save ${ref}`; // rejects when docker save fails
  await Promise.all([save, save.pipe(gzip), counted]);
  return bytes;
}

async function timedBuild(project, platform, record, extraArgs = []) {
  const image = `${imagePrefix()}-bench/${project}`;
  const started = performance.now();
  await dockerBuild([project, '--platform', platform, '--no-cache', '--image', image, '--record', record, ...extraArgs]);
  const seconds = (performance.now() - started) / 1000;
  const ref = JSON.parse(readFileSync(record, 'utf8')).tags[0];
  return { seconds, ref, compressed: await compressedSize(ref) };
}

export async function platformBench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-platforms-'));
  try {
    const rows = {};
    for (const platform of PLATFORMS) {
      const base = await timedBuild(BASE_PROJECT, platform, path.join(dir, `base-${platform.split('/')[1]}.json`));
      const service = await timedBuild(SERVICE, platform, path.join(dir, `${SERVICE}-${platform.split('/')[1]}.json`), [
        '--build-arg',
        `BASE_IMAGE=${base.ref}`,
      ]);
      rows[platform] = { base, service };
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printPlatformBench(rows, mb) {
  const [amd64, arm64] = PLATFORMS.map((p) => rows[p]);
  const total = (row) => row.base.seconds + row.service.seconds;
  console.log(`\nplatform      base build  ${SERVICE} build  total   base gz MB  ${SERVICE} gz MB  above base gz MB`);
  for (const platform of PLATFORMS) {
    const { base, service } = rows[platform];
    console.log(
      `${platform.padEnd(12)}  ${base.seconds.toFixed(1).padStart(8)} s  ${service.seconds.toFixed(1).padStart(11)} s  ${total(rows[platform]).toFixed(1).padStart(5)} s  ${mb(base.compressed).padStart(10)}  ${mb(service.compressed).padStart(13)}  ${mb(service.compressed - base.compressed).padStart(16)}`,
    );
  }
  const ratio = total(arm64) / total(amd64);
  console.log(`arm64 / amd64 build time (no cache, cross-built, no emulation): ${ratio.toFixed(2)}x (goal <= 1.5x: ${ratio <= 1.5 ? 'ok' : 'MISSED'})`);
}
