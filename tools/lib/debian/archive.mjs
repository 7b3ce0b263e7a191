// Reads what a Debian mirror currently offers: the Packages index of a suite for one architecture (http(s) or a
// file:// mirror laid out like one, which the tests use), and the dpkg records (status.d) an assembled image keeps.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.mjs';
import { compareDebianVersions } from './version.mjs';

const FETCH_TIMEOUT_MS = 60_000;

/** Parses deb822 paragraphs (Packages indexes, status records) into objects of their fields. */
export function parseParagraphs(text) {
  const paragraphs = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = {};
    let last;
    for (const line of block.split('\n')) {
      if (!line.trim()) continue;
      if (/^[ \t]/.test(line)) {
        if (last) fields[last] += `\n${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon < 1) continue;
      last = line.slice(0, colon);
      fields[last] = line.slice(colon + 1).trim();
    }
    if (fields.Package) paragraphs.push(fields);
  }
  return paragraphs;
}

/** Reads one URL (http(s) or file://) as bytes; null when it does not exist (404 / ENOENT). */
async function readUrl(url) {
  if (url.startsWith('file://')) {
    try {
      return await readFile(fileURLToPath(url));
    } catch (error) {
      if (error.code === 'ENOENT') return null;
      throw error;
    }
  }
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/**
 * The newest version of every package in `<mirror>/dists/<suite>/main/binary-<arch>/` (Packages.gz, or the plain
 * Packages the -updates and -security suites also publish). A missing suite is an empty map (e.g. no -updates yet).
 * @returns {Promise<Map<string, string>>} package name -> version
 */
export async function suiteVersions(mirror, suite, arch) {
  const base = `${mirror.replace(/\/$/, '')}/dists/${suite}/main/binary-${arch}/Packages`;
  let text;
  try {
    const gz = await readUrl(`${base}.gz`);
    if (gz) text = gunzipSync(gz).toString('utf8');
    else {
      const plain = await readUrl(base);
      if (!plain) return new Map();
      text = plain.toString('utf8');
    }
  } catch (error) {
    fail(`cannot read the package index ${base}(.gz): ${error.cause?.code ?? error.code ?? error.message}`, 3);
  }
  const versions = new Map();
  for (const { Package: name, Version: version } of parseParagraphs(text)) {
    if (!version) continue;
    const known = versions.get(name);
    if (!known || compareDebianVersions(version, known) > 0) versions.set(name, version);
  }
  return versions;
}

/** Debian's own layout: the suite and -updates on the main mirror, -security on the security mirror. */
export function suiteSources(suite, { mirror = 'http://deb.debian.org/debian', securityMirror = 'http://deb.debian.org/debian-security' } = {}) {
  return [
    { mirror, suite },
    { mirror, suite: `${suite}-updates` },
    { mirror: securityMirror, suite: `${suite}-security` },
  ];
}

/**
 * An id of the mirror's current state for a suite: a hash of the `Date:` of the suite's, -updates' and -security's
 * Release files, which change whenever the archive publishes new packages. docker-build passes it as the base's
 * PACKAGES_SNAPSHOT, so a cached package download layer is reused only while the mirror has not changed.
 * Returns null (and the reason) when a Release file cannot be read: the build then goes on with what it has.
 */
export async function releaseSnapshot(suite, options = {}) {
  const dates = [];
  for (const source of suiteSources(suite, options)) {
    const url = `${source.mirror.replace(/\/$/, '')}/dists/${source.suite}/Release`;
    let body;
    try {
      body = await readUrl(url);
    } catch (error) {
      return { snapshot: null, reason: `${url}: ${error.cause?.code ?? error.code ?? error.message}` };
    }
    if (!body) return { snapshot: null, reason: `${url}: not found` };
    dates.push(`${source.suite} ${/^Date: (.*)$/m.exec(body.toString('utf8'))?.[1] ?? ''}`);
  }
  const { createHash } = await import('node:crypto');
  return { snapshot: `mirror-${createHash('sha256').update(dates.join('\n')).digest('hex').slice(0, 16)}`, dates };
}
