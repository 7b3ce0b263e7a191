// Node.js's own release index (https://nodejs.org/dist/index.json): every release with a `security` flag.
// Trivy has no advisories for a Node.js runtime installed outside a package manager (aquasecurity/trivy#10951), so the
// scan gate and the staleness check ask this index instead: is there a newer release in the same major line that
// fixes a security issue?
import { readFile } from 'node:fs/promises';
import semver from 'semver';
import { fail } from './errors.mjs';

export const NODE_RELEASE_INDEX_URL = 'https://nodejs.org/dist/index.json';
const FETCH_TIMEOUT_MS = 15_000;

/**
 * Loads the index from `source`: an https URL or a file path (tests use a fixture). `NODE_RELEASE_INDEX` overrides
 * the default. Any failure is one line (CliError, exit 3 = "could not ask"), never a stack trace.
 * @returns {Promise<{ version: string, date: string, security: boolean, lts: string|false }[]>}
 */
export async function loadReleaseIndex(source = process.env.NODE_RELEASE_INDEX || NODE_RELEASE_INDEX_URL) {
  let text;
  try {
    if (/^https?:\/\//.test(source)) {
      const response = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } else {
      text = await readFile(source, 'utf8');
    }
  } catch (error) {
    fail(`cannot read the Node.js release index ${source}: ${error.cause?.code ?? error.code ?? error.cause?.message ?? error.message}`, 3);
  }
  return parseReleaseIndex(text, source);
}

/** Validates the index text; keeps only the fields used here, versions without their `v`. */
export function parseReleaseIndex(text, source = 'index') {
  let entries;
  try {
    entries = JSON.parse(text);
  } catch {
    fail(`the Node.js release index ${source} is not JSON`, 3);
  }
  if (!Array.isArray(entries) || entries.length === 0) fail(`the Node.js release index ${source} is not a non-empty list of releases`, 3);
  return entries.map((entry, i) => {
    const version = semver.valid(entry?.version);
    if (!version) fail(`the Node.js release index ${source}: entry ${i} has no valid version`, 3);
    return { version, date: String(entry.date ?? ''), security: entry.security === true, lts: entry.lts || false };
  });
}

/**
 * What a runtime at `version` should move to. `security` lists the newer releases of the same major line marked as
 * security releases (newest first); `latest` is the newest release of that line (the version to move to).
 */
export function securityStatus(version, index) {
  const current = semver.valid(semver.coerce(version));
  if (!current) fail(`'${version}' is not a Node.js version`, 2);
  const line = index.filter((release) => semver.major(release.version) === semver.major(current) && semver.gt(release.version, current));
  line.sort((a, b) => semver.rcompare(a.version, b.version));
  return {
    version: current,
    latest: line[0]?.version ?? current,
    security: line.filter((release) => release.security).map((release) => release.version),
  };
}

/** One line for a runtime that is behind a security release, or null when it is not. */
export function securityFinding({ version, latest, security }) {
  if (!security.length) return null;
  return `Node.js ${version} is behind security release${security.length > 1 ? 's' : ''} ${security.join(', ')}: move to ${latest}`;
}
