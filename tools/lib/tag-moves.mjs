// Tags never move backwards. Before tools/tag.mjs PUTs a tag that already exists, it reads what the tag holds now
// (the OCI version and revision labels of the image in the registry) and compares with the image about to take it:
// - `latest` moves only to a higher semver version (a backport v1.1.9 pushed after v1.2.0 does not get it);
// - a release tag (the new version is semver: 1.2.0, 1.2) never moves to a lower version;
// - any other tag (a branch, edge, sha-...) moves only to a commit that descends from the one it holds (a re-run of an
//   old main run keeps its old GITHUB_SHA and must not take edge/main back). The same commit is allowed: the daily
//   refresh republishes the commit main already holds, with fresh packages.
// The registry is the truth, not a file in the repository: two runs of different age cannot both be right about it.
import semver from 'semver';
import { $ } from './process.mjs';

export const VERSION_LABEL = 'org.opencontainers.image.version';
export const REVISION_LABEL = 'org.opencontainers.image.revision';

/** The labels of the image a manifest describes (an index: its first real platform, they share their labels). */
export async function labelsOf(registry, repository, manifest) {
  let image = manifest;
  if (Array.isArray(manifest.json.manifests)) {
    // BuildKit's attestation manifests carry platform unknown/unknown; they have no image config labels.
    const first = manifest.json.manifests.find((entry) => entry.platform?.os !== 'unknown');
    image = first ? await registry.getManifest(repository, first.digest) : null;
  }
  const config = image?.json.config?.digest ? await registry.getBlobJson(repository, image.json.config.digest) : null;
  return config?.config?.Labels ?? {};
}

/** `git merge-base --is-ancestor` in `cwd`: true, false, or null when git cannot tell (a commit it does not have). */
export const gitAncestry = (cwd) => async (older, newer) => {
  const result = await $({ cwd, nothrow: true })`git merge-base --is-ancestor ${older} ${newer}`;
  return result.exitCode === 0 ? true : result.exitCode === 1 ? false : null;
};

const short = (sha) => String(sha).slice(0, 12);
const versionOf = (labels) => semver.valid(semver.clean(String(labels[VERSION_LABEL] ?? '')) ?? '');

/**
 * Why giving `tag` (now naming the image labelled `held`) to the image labelled `next` would move it backwards, or
 * null when the move is forward. `isAncestor(older, newer)` answers true, false or null (cannot tell).
 */
export async function backwardsReason(tag, held, next, { isAncestor }) {
  const heldVersion = versionOf(held);
  const nextVersion = versionOf(next);
  if (tag === 'latest') {
    if (!nextVersion) return `latest goes only to a release (a semver version), not to '${next[VERSION_LABEL] ?? 'no version'}'`;
    if (heldVersion && !semver.gt(nextVersion, heldVersion)) return `latest holds ${heldVersion}; ${nextVersion} is not higher`;
    return null;
  }
  if (nextVersion) {
    if (heldVersion && semver.lt(nextVersion, heldVersion)) return `holds ${heldVersion}; ${nextVersion} is lower`;
    return null;
  }
  const heldRevision = held[REVISION_LABEL];
  const nextRevision = next[REVISION_LABEL];
  if (!heldRevision || heldRevision === nextRevision) return null;
  if (!nextRevision) return `holds commit ${short(heldRevision)}; the new image names no commit (no ${REVISION_LABEL} label)`;
  const descends = await isAncestor(heldRevision, nextRevision);
  if (descends === null) return `holds commit ${short(heldRevision)}, which this checkout cannot compare with ${short(nextRevision)} (fetch the full history)`;
  if (!descends) return `holds commit ${short(heldRevision)}; ${short(nextRevision)} does not descend from it (an older run)`;
  return null;
}
