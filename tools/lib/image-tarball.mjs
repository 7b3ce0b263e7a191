// The image exactly as BuildKit wrote it: the docker-format tarball docker-build keeps beside the build record. BuildKit's
// docker exporter writes an OCI image layout into it (index.json, blobs/<alg>/<hex>) besides docker's manifest.json,
// so the platform manifest, config and compressed layers are there byte for byte, under their digests. Pushing those
// bytes is what makes the registry's manifest digest the build's `manifestDigest` in either image store: a classic
// store's `docker push` compresses the layers again, and another gzip stream is another digest.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fail } from './errors.mjs';
import { MEDIA_TYPES, sha256 } from './registry.mjs';
import { readTarEntries } from './tar-entries.mjs';
import { workspaceRoot } from './workspace.mjs';

const DIGEST = /^(sha256):([0-9a-f]{64})$/;
export const blobPath = (digest) => {
  const [, algorithm, hex] = DIGEST.exec(digest) ?? fail(`'${digest}' is not a sha256 digest`, 1);
  return `blobs/${algorithm}/${hex}`;
};
const shown = (file) => path.relative(workspaceRoot, file) || file;

/** The tarball a build record names (`tarball`, relative to the record's folder), or null when it names none. */
export function recordTarball(recordFile, record) {
  return record.tarball ? path.resolve(path.dirname(recordFile), record.tarball) : null;
}

async function readBlobs(file, digests) {
  try {
    return await readTarEntries(file, digests.map(blobPath));
  } catch (error) {
    fail(`${shown(file)} is not a readable image tarball: ${error.message}`, 1);
  }
}

/** One blob of the layout, checked against its digest; a missing or altered blob is one line. */
function checkedBlob(file, blobs, digest, what) {
  const bytes = blobs.get(blobPath(digest));
  if (!bytes) fail(`${shown(file)} does not hold the ${what} ${digest}: it is not this build's tarball (rebuild the image)`, 1);
  if (sha256(bytes) !== digest) fail(`${shown(file)}: the ${what} ${digest} hashes to ${sha256(bytes)} (a damaged tarball: rebuild the image)`, 1);
  return bytes;
}

/**
 * The build's platform image in `file`, found by the manifest digest BuildKit reported (the record's manifestDigest):
 * {file, manifest: {digest, mediaType, bytes, json}, config, platform, blobs: [{digest, size, path}]} with `blobs` the
 * config and the layers, each once. The manifest bytes must hash to `manifestDigest` and name `configDigest` (when
 * given): what is pushed is then the build, or nothing is.
 */
export async function readBuiltImage(file, { manifestDigest, configDigest } = {}) {
  if (!existsSync(file)) fail(`no ${shown(file)}: the build's image tarball is gone; rebuild the image (node tools/docker-build.mjs)`, 1);
  if (!DIGEST.test(manifestDigest ?? '')) fail(`${shown(file)}: the build record has no manifestDigest to find its manifest by`, 1);
  const bytes = checkedBlob(file, await readBlobs(file, [manifestDigest]), manifestDigest, 'manifest');
  let json;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail(`${shown(file)}: the manifest ${manifestDigest} is not JSON`, 1);
  }
  if (!json.config?.digest || !Array.isArray(json.layers)) fail(`${shown(file)}: ${manifestDigest} is not an image manifest (no config or layers)`, 1);
  if (configDigest && json.config.digest !== configDigest)
    fail(`${shown(file)}: the manifest ${manifestDigest} names the config ${json.config.digest}, the build record ${configDigest}`, 1);
  const blobs = new Map();
  for (const descriptor of [json.config, ...json.layers]) {
    if (!DIGEST.test(descriptor.digest ?? '') || !Number.isSafeInteger(descriptor.size))
      fail(`${shown(file)}: the manifest ${manifestDigest} has a descriptor without a sha256 digest and size`, 1);
    blobs.set(descriptor.digest, { digest: descriptor.digest, size: descriptor.size, path: blobPath(descriptor.digest) });
  }
  const config = JSON.parse(checkedBlob(file, await readBlobs(file, [json.config.digest]), json.config.digest, 'config').toString('utf8'));
  return {
    file,
    // OCI manifests should say their media type (BuildKit's do); one that does not is OCI's
    manifest: { digest: manifestDigest, mediaType: json.mediaType ?? MEDIA_TYPES.ociManifest, bytes, json },
    config,
    platform: `${config.os}/${config.architecture}${config.variant ? `/${config.variant}` : ''}`,
    blobs: [...blobs.values()],
  };
}
