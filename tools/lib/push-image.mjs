// Uploads one built platform image (lib/image-tarball.mjs readBuiltImage) to a registry as BuildKit wrote it: every
// blob the repository lacks, streamed from the tarball, then the manifest bytes unchanged. The registry's digest for
// the manifest is then the build's manifestDigest whatever image store the engine has: nothing is recompressed.
import path from 'node:path';
import { CliError, fail } from './errors.mjs';
import { eachTarEntry } from './tar-entries.mjs';
import { workspaceRoot } from './workspace.mjs';

const shown = (file) => path.relative(workspaceRoot, file) || file;

/**
 * Pushes `image` to `repository` through `registry` (lib/registry.mjs registryClient), the manifest PUT under `tag`
 * (a name the registry keeps it by) or its digest. Returns {digest, uploaded, skipped} (blob counts).
 */
export async function pushBuiltImage(registry, repository, image, { tag } = {}) {
  const missing = new Map();
  for (const blob of image.blobs) if (!(await registry.hasBlob(repository, blob.digest))) missing.set(blob.path, blob);
  const uploaded = missing.size;
  if (missing.size) {
    try {
      await eachTarEntry(
        image.file,
        (name) => missing.has(name),
        async (name, entry) => {
          const blob = missing.get(name);
          // the registry would refuse a wrong size too, but only after the bytes went up
          if (entry.size !== blob.size) fail(`${shown(image.file)}: ${name} is ${entry.size} bytes, the manifest says ${blob.size}`, 1);
          await registry.uploadBlob(repository, { digest: blob.digest, size: blob.size, body: entry });
          missing.delete(name);
        },
      );
    } catch (error) {
      if (error instanceof CliError) throw error;
      fail(`${shown(image.file)} is not a readable image tarball: ${error.message}`, 1);
    }
  }
  if (missing.size) fail(`${shown(image.file)} does not hold ${[...missing.keys()][0]}, which its manifest names: rebuild the image`, 1);
  const digest = await registry.putManifest(repository, tag ?? image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  return { digest, uploaded, skipped: image.blobs.length - uploaded };
}
