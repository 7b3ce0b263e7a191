// Tags and OCI labels for an image build, from tools/docker-metadata.mjs (docker/metadata-action semantics).
// Locally, with no rules given, an image gets the stable tag `local` (what compose files and tests use) and `sha-<short>`.
export const LOCAL_TAG_RULES = 'type=raw,value=local\ntype=sha';

export async function imageMetadata({ project, image, tags, flavor, labels }) {
  let computeMetadata;
  try {
    ({ computeMetadata } = await import('../docker-metadata.mjs'));
  } catch {
    // TEMPORARY until docker-metadata lands
    return { version: 'local', tags: [`${image}:local`], labels: { 'org.opencontainers.image.title': project } };
  }
  return computeMetadata({ project, images: image, tags: tags ?? LOCAL_TAG_RULES, flavor, labels });
}
