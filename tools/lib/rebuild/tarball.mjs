// An image as a file: a docker-format tarball (BuildKit's docker exporter, `docker save`; both write manifest.json
// naming the config and layer files), and the exact Debian closure its dpkg records name. docker-build records that
// closure per architecture; verify-rebuild reads a rebuilt image back this way.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { x as extract } from 'tar';
import { parseParagraphs } from '../debian/archive.mjs';
import { layerEntries } from './layers.mjs';

/** {config, layers: [Buffer]} of the first image in a docker-format tarball. */
export async function readImageTarball(file) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'image-tarball-'));
  try {
    await extract({ file, cwd: dir });
    const [manifest] = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const config = JSON.parse(readFileSync(path.join(dir, manifest.Config), 'utf8'));
    return { config, layers: manifest.Layers.map((layer) => readFileSync(path.join(dir, layer))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The dpkg records an image carries (var/lib/dpkg/status.d/*), read from its layers, later layers winning: the exact
 * Debian package closure of that platform, as `name:arch=version` (plain `name=version` for Architecture: all), the
 * form the base Dockerfile's DEBIAN_PACKAGES takes.
 */
export async function debianPackages(layers) {
  const records = new Map();
  for (const bytes of layers) {
    for (const [name, entry] of await layerEntries(bytes, { keep: (p) => p.startsWith('var/lib/dpkg/status.d/') })) {
      if (entry.content) records.set(name, entry.content.toString('utf8'));
    }
  }
  return [...records.values()]
    .flatMap(parseParagraphs)
    .map(({ Package: name, Architecture: arch, Version: version }) => (arch === 'all' ? `${name}=${version}` : `${name}:${arch}=${version}`))
    .sort();
}
