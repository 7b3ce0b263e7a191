// The two sides verify-rebuild compares. Published: an image in a registry by digest (index or single manifest), read
// with the registry API, never pulled into the engine (foreign platforms need no emulation, nothing is run). Rebuilt:
// the image docker-build just loaded, read back with `docker save` (manifest.json names its config and layer files).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail } from '../errors.mjs';
import { MEDIA_TYPES, parseImageRef, registryClient } from '../registry.mjs';
import { $, lastLine } from '../process.mjs';
import { readImageTarball } from './tarball.mjs';

export { debianPackages } from './tarball.mjs';

/** `host/name@sha256:<hex>`, or one line saying what a reference to rebuild must look like. */
export function parseDigestRef(ref) {
  if (!/@sha256:[0-9a-f]{64}$/.test(ref ?? '')) fail(`'${ref}' is not <registry>/<name>@sha256:<64 hex>: verify-rebuild needs the published digest`);
  return parseImageRef(ref);
}

/**
 * The published image's platforms: [{platform, digest, manifest, config}] (attestation manifests left out), plus a
 * reader for its blobs. A reference the registry does not know is one line.
 */
export async function publishedImage(ref) {
  const { host, repository, reference } = parseDigestRef(ref);
  const registry = registryClient(host);
  const top = await registry.getManifest(repository, reference);
  if (!top) fail(`${ref}: no such manifest in the registry`);
  const blob = (digest) => registry.getBlob(repository, digest);
  const platformOf = (config) => `${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ''}`;
  const single = async (digest, manifest) => {
    const config = JSON.parse((await blob(manifest.config.digest)).toString('utf8'));
    return { platform: platformOf(config), digest, manifest, config };
  };
  let platforms;
  if (top.mediaType === MEDIA_TYPES.ociIndex || top.mediaType === MEDIA_TYPES.dockerList) {
    platforms = [];
    for (const entry of top.json.manifests) {
      if (entry.platform?.os === 'unknown') continue; // buildx attestation manifests
      const manifest = await registry.getManifest(repository, entry.digest);
      platforms.push(await single(entry.digest, manifest.json));
    }
  } else platforms = [await single(top.digest, top.json)];
  return { ref, host, repository, digest: top.digest, platforms, blob };
}

/** A loaded image's config and layer bytes, from `docker save` (both image stores write manifest.json). */
export async function savedImage(toolchain, ref, env) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-rebuild-save-'));
  try {
    const tarFile = path.join(dir, 'image.tar');
    const saved = await $({ env, nothrow: true })`${toolchain.client} save --output ${tarFile} ${ref}`;
    if (!saved.ok) fail(`docker save ${ref} failed: ${lastLine(saved)}`, 1);
    return await readImageTarball(tarFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
