// Small multi-platform images written straight into a registry through its HTTP API (no Docker Engine): an OCI image
// config with the labels a test needs, one tiny layer, one manifest per platform and their index. Enough for what
// reads labels and digests (tools/tag.mjs's backwards check) and for cosign, which signs any manifest.
import { MEDIA_TYPES, imageIndex, registryClient, sha256 } from '../../lib/registry.mjs';

async function putBlob(host, repository, bytes) {
  const digest = sha256(bytes);
  const start = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload to ${host}/${repository}: HTTP ${start.status}`);
  const location = new URL(start.headers.get('location'), `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload to ${host}/${repository}: HTTP ${put.status}`);
  return { digest, size: bytes.length };
}

/**
 * Pushes an image index for `platforms`, every platform's config carrying `labels` (and `seed`, so two images with
 * the same labels still differ). Returns {ref, digest, platforms: {platform: digest}}; nothing is tagged.
 */
export async function pushSyntheticImage(host, repository, { labels = {}, platforms = ['linux/amd64'], seed = String(Math.random()) } = {}) {
  const registry = registryClient(host);
  const layer = await putBlob(host, repository, Buffer.from(`synthetic layer ${seed}`));
  const manifests = [];
  const byPlatform = {};
  for (const platform of platforms) {
    const [os, architecture] = platform.split('/');
    const config = Buffer.from(
      JSON.stringify({ architecture, os, config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [layer.digest] }, history: [{ comment: seed }] }),
    );
    const configBlob = await putBlob(host, repository, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const digest = await registry.putManifest(repository, sha256(manifest), manifest, MEDIA_TYPES.ociManifest);
    manifests.push({ platform, digest, mediaType: MEDIA_TYPES.ociManifest, size: manifest.length });
    byPlatform[platform] = digest;
  }
  const index = imageIndex(manifests);
  await registry.putManifest(repository, index.digest, index.bytes, index.mediaType);
  return { ref: `${host}/${repository}@${index.digest}`, digest: index.digest, platforms: byPlatform };
}
