// Tags and OCI labels for an image build, from tools/docker-metadata.mjs (docker/metadata-action semantics).
// Locally, with no rules given, an image gets the stable tag `local` (what compose files and tests use) and `sha-<short>`.
import { execFileSync } from 'node:child_process';
import { computeMetadata, MetadataError } from '../docker-metadata.mjs';
import { fail } from './cli.mjs';
import { workspaceRoot } from './workspace.mjs';

export const LOCAL_TAG_RULES = 'type=raw,value=local\ntype=sha';

/**
 * The `created` label is the commit time, not the wall clock (docker/metadata-action uses the wall clock: a
 * deliberate difference): rebuilding an unchanged checkout yields the identical image ID, and in Actions the image the
 * gate scanned is the one that ships. SOURCE_DATE_EPOCH or an explicit label still win; tag expressions such as
 * {{date}} keep the real clock.
 */
function commitTime() {
  try {
    const epoch = execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: workspaceRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000).toISOString() : null;
  } catch {
    return null;
  }
}

export async function imageMetadata({ project, image, tags, flavor, labels }) {
  try {
    const meta = computeMetadata({ project, images: image, tags: tags ?? LOCAL_TAG_RULES, flavor, labels, env: process.env });
    const created = 'org.opencontainers.image.created';
    const explicit = process.env.SOURCE_DATE_EPOCH || String(labels ?? '').includes(created);
    const committed = explicit ? null : commitTime();
    return committed ? { ...meta, labels: { ...meta.labels, [created]: committed } } : meta;
  } catch (error) {
    if (error instanceof MetadataError) fail(`image metadata: ${error.message}`);
    throw error;
  }
}
