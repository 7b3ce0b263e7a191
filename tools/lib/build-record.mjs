// The build record dist/docker/<project>.json: what was built (docker-build), pushed by digest (push), scanned (scan)
// and tagged (tag). Each step reads it and adds its part; this module is the one place that knows the file names and
// the rule that tagging, signing and attesting need: a passing scan of exactly the digest about to be published.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fail } from './cli.mjs';
import { workspaceRoot } from './workspace.mjs';

export const recordsDir = () => path.join(workspaceRoot, 'dist/docker');
export const recordPath = (project) => path.join(recordsDir(), `${project}.json`);
/** The record of one platform's build (`docker-build --record`), before the platforms are pushed together. */
export const platformRecordPath = (project, platform) => path.join(recordsDir(), `${project}.${platform.replaceAll('/', '-')}.json`);

export function readRecord(file) {
  if (!existsSync(file)) fail(`no ${path.relative(workspaceRoot, file)}: build the image first (node tools/docker-build.mjs <project>)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    fail(`${path.relative(workspaceRoot, file)} is not valid JSON`);
  }
}

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
    if (result.digest !== record.platforms[platform].digest) return `${record.project}: ${platform} was scanned as ${result.digest}, not ${record.platforms[platform].digest}`;
  }
  if (scan.passed !== true) return `${record.project}@${record.digest} did not pass its scan (${scan.summary ?? 'see the scan step'})`;
  return null;
}
