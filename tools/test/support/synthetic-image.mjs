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
  // An empty tar archive plus a file named after the seed: a real layer that scanners can read.
  const layer = await putBlob(host, repository, syntheticLayer(seed));
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

/** An uncompressed tar with one small file (its name and content from `seed`), padded as tar requires. */
function syntheticLayer(seed) {
  const name = `synthetic-${String(seed)
    .replace(/[^\w.-]/g, '_')
    .slice(0, 60)}`;
  const body = Buffer.from(`${seed}\n`);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  const checksum = [...header].reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([header, padded, Buffer.alloc(1024)]);
}
