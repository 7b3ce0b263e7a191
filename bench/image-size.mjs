// An image's size measured the same way in both image stores: the bytes of the files its layers unpack (what the
// classic store's `docker image inspect .Size` reports, within tar rounding). The containerd store's `.Size` is the
// compressed content instead (about 2.5x smaller for our images), so the benchmarks never read `.Size`: they read the
// image back with `docker save` (lib/rebuild/tarball.mjs) and add up its layers' file sizes (lib/rebuild/layers.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { docker } from '../tools/lib/docker-engine.mjs';
import { layerEntries } from '../tools/lib/rebuild/layers.mjs';
import { readImageTarball } from '../tools/lib/rebuild/tarball.mjs';

/** The unpacked size in bytes of a local image, the same in both image stores. */
export async function unpackedSize(ref) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'image-size-'));
  try {
    const file = path.join(dir, 'image.tar');
    await docker(['save', '--output', file, ref]);
    const { layers } = await readImageTarball(file);
    let bytes = 0;
    for (const layer of layers) for (const entry of (await layerEntries(layer)).values()) if (entry.type === 'File') bytes += entry.size;
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
