// What makes an image build replayable: the clock it is stamped with (SOURCE_DATE_EPOCH, the commit time) and the
// inputs the image itself does not name otherwise. The Debian package versions need no label: the base keeps a dpkg
// record of every package it unpacked (/var/lib/dpkg/status.d, what scanners and SBOMs read), per architecture.
import { fail } from './errors.mjs';
import { $ } from './process.mjs';
import { workspaceRoot } from './workspace.mjs';

/** The archive state the base's packages were resolved against, as a snapshot.debian.org timestamp. */
export const DEBIAN_SNAPSHOT_LABEL = 'io.secure-ci.debian.snapshot';
/** A service's base image can come from an older commit (its own labels are overridden): that commit. */
export const BASE_REVISION_LABEL = 'io.secure-ci.base.revision';
export const REVISION_LABEL = 'org.opencontainers.image.revision';
export const CREATED_LABEL = 'org.opencontainers.image.created';

/** SOURCE_DATE_EPOCH as given, else the commit time of HEAD (seconds); null outside a git checkout. */
export async function sourceDateEpoch({ env = process.env, cwd = workspaceRoot } = {}) {
  if (env.SOURCE_DATE_EPOCH) {
    if (!/^\d+$/.test(env.SOURCE_DATE_EPOCH)) fail(`SOURCE_DATE_EPOCH must be seconds since 1970, got '${env.SOURCE_DATE_EPOCH}'`);
    return env.SOURCE_DATE_EPOCH;
  }
  const epoch = (await $({ cwd, nothrow: true })`git log -1 --format=%ct`).stdout.trim();
  return /^\d+$/.test(epoch) ? epoch : null;
}

/** `2026-12-05T08:12:34Z` -> `20261205T081234Z` (snapshot.debian.org's form). */
export const snapshotTimestamp = (date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/**
 * The newest `Date:` of the suite's Release files (lib/debian/archive.mjs releaseSnapshot's `dates`: "<suite> <date>")
 * as a snapshot timestamp. It changes exactly when the mirror publishes, like PACKAGES_SNAPSHOT, so the label it
 * becomes does not break a rebuild of an unchanged mirror state.
 */
export function debianSnapshotId(dates = []) {
  const times = dates.map((line) => Date.parse(line.slice(line.indexOf(' ') + 1))).filter(Number.isFinite);
  return times.length ? snapshotTimestamp(new Date(Math.max(...times))) : undefined;
}

/** The inputs of one build, for its record: what verify-rebuild replays (`packages`: the base's Debian closure). */
export function buildInputs(args, labels, packages) {
  return {
    revision: labels[REVISION_LABEL] ?? null,
    sourceDateEpoch: args.SOURCE_DATE_EPOCH ?? null,
    nodeVersion: args.NODE_VERSION,
    ...(labels[DEBIAN_SNAPSHOT_LABEL] ? { debianSnapshot: labels[DEBIAN_SNAPSHOT_LABEL] } : {}),
    ...(packages?.length ? { debianPackages: packages } : args.DEBIAN_PACKAGES ? { debianPackages: args.DEBIAN_PACKAGES.trim().split(/\s+/) } : {}),
    ...(labels[BASE_REVISION_LABEL] ? { baseRevision: labels[BASE_REVISION_LABEL] } : {}),
  };
}
