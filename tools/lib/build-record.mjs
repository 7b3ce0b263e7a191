// The build record dist/docker/<project>.json: what was built (docker-build), pushed by digest (push), scanned (scan)
// and tagged (tag). Each step reads it and adds its part; this module is the one place that knows the file names, how
// a record is read, checked and written, and the rule that tagging, signing and attesting need: a passing scan of
// exactly the digest about to be published.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fail } from './errors.mjs';
import { workspaceRoot } from './workspace.mjs';

export const recordsDir = () => path.join(workspaceRoot, 'dist/docker');
/** The record of a project's image for the engine's own architecture. */
export const recordPath = (project) => path.join(recordsDir(), `${project}.json`);
/** The record of one platform's build for a multi-platform push (`build-platforms`, then `push --platforms`). */
export const platformRecordPath = (project, platform) => path.join(recordsDir(), `${project}.${platform.replaceAll('/', '-')}.json`);
/**
 * Where `docker-build --platform` records a build for another architecture than the engine's (its tags carry the
 * suffix -<arch>): the engine's image store holds one architecture per tag, so the two builds live side by side.
 */
export const foreignRecordPath = (project, arch) => path.join(recordsDir(), `${project}.${arch}.json`);

const shown = (file) => path.relative(workspaceRoot, file) || file;

/** Why `record` is not a build record docker-build wrote ({project, image, tags, imageId, labels}), or null. */
export function recordProblem(record) {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return 'not a build record (a JSON object)';
  if (typeof record.project !== 'string' || !record.project) return 'no project';
  if (typeof record.image !== 'string' || !record.image) return `${record.project}: no image`;
  if (!Array.isArray(record.tags) || !record.tags.every((tag) => typeof tag === 'string')) return `${record.project}: tags is not a list of image references`;
  if (typeof record.imageId !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(record.imageId)) return `${record.project}: imageId is not sha256:<64 hex>`;
  if (record.digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(String(record.digest))) return `${record.project}: digest is not sha256:<64 hex>`;
  return null;
}

/** Reads and checks a record; a missing, unreadable or malformed one is one CliError line (exit 2). */
export function readRecord(file) {
  if (!existsSync(file)) {
    const project = path.basename(file).split('.')[0];
    fail(`no ${shown(file)}: build the image first (node tools/docker-build.mjs ${project})`);
  }
  let record;
  try {
    record = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    fail(`${shown(file)} is not valid JSON`);
  }
  const problem = recordProblem(record);
  if (problem) fail(`${shown(file)}: ${problem}`);
  return record;
}

/** The record of a project's local build (dist/docker/<project>.json). */
export const builtImage = (project) => readRecord(recordPath(project));

export function writeRecord(file, record) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/**
 * Why `record` may not be tagged, signed or attested, or null when it may: its scan passed, for the digest it holds,
 * on every platform that digest covers.
 */
export function unscannedReason(record) {
  if (!record.digest) return `${record.project} was not pushed by digest (no digest in its build record)`;
  const scan = record.scan;
  if (!scan) return `${record.project}@${record.digest} has no scan record: run node tools/scan.mjs ${record.project}`;
  if (scan.digest !== record.digest) return `${record.project}: the scan record is for ${scan.digest}, not the pushed ${record.digest}`;
  const platforms = Object.keys(record.platforms ?? {});
  for (const platform of platforms) {
    const result = scan.platforms?.[platform];
    if (!result) return `${record.project}: ${platform} (${record.platforms[platform].digest}) was not scanned`;
    if (result.digest !== record.platforms[platform].digest)
      return `${record.project}: ${platform} was scanned as ${result.digest}, not ${record.platforms[platform].digest}`;
  }
  if (scan.passed !== true) return `${record.project}@${record.digest} did not pass its scan (${scan.summary ?? 'see the scan step'})`;
  return null;
}

/**
 * Why `record` may not be published as a release (publish.yml's tags, signature, attestations), or null: everything
 * unscannedReason asks, and no platform's Node.js runtime gate skipped. A skip is an explicit local choice
 * (--allow-missing-node-index, SCAN_ALLOW_MISSING_NODE_INDEX=true) for machines without the release index; a release
 * never rests on a gate that did not run.
 */
export function releaseReason(record) {
  const unscanned = unscannedReason(record);
  if (unscanned) return unscanned;
  const skipped = Object.entries(record.scan.platforms ?? {})
    .filter(([, result]) => result.runtime?.verdict === 'skipped')
    .map(([platform]) => platform);
  if (skipped.length)
    return `${record.project}@${record.digest}: the Node.js runtime gate was skipped for ${skipped.join(', ')}, and a release needs it to have run`;
  return null;
}
