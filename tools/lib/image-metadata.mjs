// Tags and OCI labels for an image build, with docker/metadata-action semantics (lib/metadata/compute.mjs).
// Locally, with no rules given, an image gets the stable tag `local` (what compose files and tests use) and `sha-<short>`.
import { LOCAL_TAG } from './defaults.cjs';
import { CliError, fail } from './errors.mjs';
import { computeMetadata } from './metadata/compute.mjs';
import { $ } from './process.mjs';
import { workspaceRoot } from './workspace.mjs';

export const LOCAL_TAG_RULES = `type=raw,value=${LOCAL_TAG}\ntype=sha`;

/**
 * The `created` label is the commit time, not the wall clock (docker/metadata-action uses the wall clock: a
 * deliberate difference): rebuilding an unchanged checkout yields the identical image ID, and in Actions the image the
 * gate scanned is the one that ships. SOURCE_DATE_EPOCH or an explicit label still win; tag expressions such as
 * {{date}} keep the real clock.
 */
async function commitTime() {
  const epoch = (await $({ cwd: workspaceRoot, nothrow: true })`git log -1 --format=%ct`).stdout.trim();
  return /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : null;
}

export async function imageMetadata({ project, image, tags, flavor, labels }) {
  try {
    const meta = computeMetadata({ project, images: image, tags: tags ?? LOCAL_TAG_RULES, flavor, labels, env: process.env });
    const created = 'org.opencontainers.image.created';
    const explicit = process.env.SOURCE_DATE_EPOCH || String(labels ?? '').includes(created);
    const committed = explicit ? null : await commitTime();
    return committed ? { ...meta, labels: { ...meta.labels, [created]: committed } } : meta;
  } catch (error) {
    if (error instanceof CliError) fail(`image metadata: ${error.message}`, error.exitCode);
    throw error;
  }
}
