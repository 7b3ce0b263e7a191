#!/usr/bin/env node
// Is a built or published base image still fresh? Compares every dpkg record the image keeps
// (/var/lib/dpkg/status.d) with the newest version the Debian mirror offers for its suite, -updates and -security,
// for the image's architecture, and its Node.js version with Node's release index (a newer security release in the
// same major line). Prints one line per finding and exits 10 (STALE_EXIT_CODE) when anything is behind, 0 when
// fresh, 2 on bad input, 3 when a source could not be read, 1 when anything else failed (e.g. Docker): stale has a
// code of its own, so refresh.yml never reads a failure as "stale" (and rebuilds) or as "fresh". The snapshot id it prints changes whenever the mirror's versions of the
// image's packages change: the scheduled refresh passes it as the build arg PACKAGES_SNAPSHOT, so the package
// download layer is rebuilt rather than served from a cache.
//
// Usage: node tools/base-freshness.mjs [--image REF | --record FILE | --status-dir DIR --node-version V]
//          [--mirror URL] [--security-mirror URL] [--node-index URL|FILE] [--json] [--github-output]
//   default image: the base image this workspace built (dist/docker/base-image.json)
//   mirrors: DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR, else deb.debian.org; file:// mirrors work (tests use them)
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Parser } from 'tar';
import { DEBIAN_SUITES } from './lib/base-images.mjs';
import { readRecord, recordPath } from './lib/build-record.mjs';
import { BASE_PROJECT } from './lib/defaults.cjs';
import { docker, dockerEnv, requireDocker } from './lib/docker-engine.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { $, lastLine } from './lib/process.mjs';
import { loadReleaseIndex, securityFinding, securityStatus } from './lib/node-releases.mjs';
import { parseParagraphs, suiteSources, suiteVersions } from './lib/debian/archive.mjs';
import { compareDebianVersions, parseDebianVersion } from './lib/debian/version.mjs';

/** The exit code for "stale", distinct from every failure (1 a step failed, 2 bad input, 3 a source unreadable). */
export const STALE_EXIT_CODE = 10;

const OPTIONS = {
  image: { type: 'string' },
  record: { type: 'string' },
  'status-dir': { type: 'string' },
  'node-version': { type: 'string' },
  mirror: { type: 'string' },
  'security-mirror': { type: 'string' },
  'node-index': { type: 'string' },
  json: { type: 'boolean' },
  'github-output': { type: 'boolean' },
};

const STATUS_DIR = 'var/lib/dpkg/status.d';

/** Streams `docker cp <container>:/var/lib/dpkg/status.d -` (a tar) into a list of record texts. */
async function imageStatusRecords(toolchain, container) {
  const records = [];
  const parser = new Parser({
    onReadEntry: (entry) => {
      if (entry.type !== 'File') return entry.resume();
      const chunks = [];
      entry.on('data', (chunk) => chunks.push(chunk));
      entry.on('end', () => records.push(Buffer.concat(chunks).toString('utf8')));
    },
  });
  const parsed = new Promise((resolve, reject) => parser.on('end', resolve).on('error', reject));
  const copy = await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} cp ${`${container}:/${STATUS_DIR}`} -`.pipe(parser);
  if (!copy.ok) fail(`the image has no dpkg records in /${STATUS_DIR}: ${lastLine(copy)}`);
  await parsed;
  return records;
}

/** The packages and Node.js version of an image (local store; pulled first if it is only in a registry). */
async function fromImage(ref) {
  const toolchain = await requireDocker();
  const inspected = await docker(['image', 'inspect', ref], { reject: false });
  if (!inspected || inspected.exitCode) {
    const pulled = await docker(['pull', '--quiet', ref], { reject: false });
    if (pulled?.exitCode) fail(`image '${ref}' is neither in the local image store nor pullable`);
  }
  const [config] = JSON.parse(await docker(['image', 'inspect', ref]));
  const nodeVersion = (config.Config?.Env ?? []).find((entry) => entry.startsWith('NODE_VERSION='))?.slice('NODE_VERSION='.length) ?? null;
  const container = (await docker(['create', ref])).trim();
  try {
    return { packages: (await imageStatusRecords(toolchain, container)).flatMap(parseParagraphs), nodeVersion, source: ref };
  } finally {
    await docker(['rm', '-f', container], { reject: false });
  }
}

function fromStatusDir(dir, nodeVersion) {
  if (!existsSync(dir)) fail(`--status-dir ${dir}: no such directory`);
  const packages = readdirSync(dir).flatMap((file) => parseParagraphs(readFileSync(path.join(dir, file), 'utf8')));
  return { packages, nodeVersion: nodeVersion ?? null, source: dir };
}

/** Suite and architecture the records belong to: base-files' major version names the suite. */
function describe(packages) {
  if (!packages.length) fail('no dpkg records found: is this an assembled base image?');
  for (const record of packages) {
    if (!record.Version) fail(`dpkg record of '${record.Package}' has no Version`);
    try {
      parseDebianVersion(record.Version);
    } catch (error) {
      fail(`dpkg record of '${record.Package}': ${error.message}`);
    }
  }
  const baseFiles = packages.find((p) => p.Package === 'base-files');
  const suite = DEBIAN_SUITES[/^(\d+)/.exec(baseFiles?.Version ?? '')?.[1]];
  if (!suite) fail(`cannot tell the Debian suite: base-files ${baseFiles?.Version ?? 'missing'} is not a release of ${Object.keys(DEBIAN_SUITES).join(', ')}`);
  const arches = [...new Set(packages.map((p) => p.Architecture).filter((a) => a && a !== 'all'))];
  if (arches.length !== 1) fail(`expected packages of one architecture, found ${arches.join(', ') || 'none'}`);
  return { suite, arch: arches[0] };
}

export async function checkFreshness(options) {
  const image = options['status-dir']
    ? fromStatusDir(options['status-dir'], options['node-version'])
    : await fromImage(options.image ?? readRecordTag(options.record));
  if (options['node-version']) image.nodeVersion = options['node-version'];
  const { suite, arch } = describe(image.packages);
  const sources = suiteSources(suite, {
    mirror: options.mirror ?? process.env.DEBIAN_MIRROR ?? undefined,
    securityMirror: options['security-mirror'] ?? process.env.DEBIAN_SECURITY_MIRROR ?? undefined,
  });
  const indexes = [];
  for (const source of sources) indexes.push({ ...source, versions: await suiteVersions(source.mirror, source.suite, arch) });
  if (!indexes[0].versions.size) fail(`the mirror ${sources[0].mirror} has no packages for ${suite}/${arch}`, 3);

  const findings = [];
  const current = [];
  for (const record of image.packages.sort((a, b) => a.Package.localeCompare(b.Package))) {
    let newest = null;
    for (const index of indexes) {
      const version = index.versions.get(record.Package);
      if (version && (!newest || compareDebianVersions(version, newest.version) > 0)) newest = { version, suite: index.suite };
    }
    current.push(`${record.Package}=${newest?.version ?? 'missing'}`);
    if (!newest)
      findings.push({
        kind: 'debian',
        package: record.Package,
        installed: record.Version,
        message: `${record.Package} ${record.Version} is not on the mirror for ${suite}/${arch} any more`,
      });
    else if (compareDebianVersions(record.Version, newest.version) < 0) {
      findings.push({
        kind: 'debian',
        package: record.Package,
        installed: record.Version,
        current: newest.version,
        suite: newest.suite,
        message: `${record.Package} ${record.Version} is behind ${newest.version} (${newest.suite})`,
      });
    }
  }
  let node = null;
  if (image.nodeVersion) {
    node = securityStatus(image.nodeVersion, await loadReleaseIndex(options['node-index'] ?? process.env.NODE_RELEASE_INDEX ?? undefined));
    const message = securityFinding(node);
    if (message) findings.push({ kind: 'node', installed: node.version, current: node.latest, message });
  } else fail(`the Node.js version of ${image.source} is unknown (no NODE_VERSION in the image config): pass --node-version`);
  const snapshot = createHash('sha256')
    .update(`${suite}/${arch}\n${current.join('\n')}`)
    .digest('hex')
    .slice(0, 16);
  return { source: image.source, suite, arch, packages: image.packages.length, nodeVersion: node.version, stale: findings.length > 0, findings, snapshot };
}

function readRecordTag(file = recordPath(BASE_PROJECT)) {
  const record = readRecord(path.resolve(file));
  const ref = record.digest ? `${record.image}@${record.digest}` : record.tags[0];
  if (!ref) fail(`build record ${file} names no image`);
  return ref;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseCliArgs({ options: OPTIONS }, { hint: ' (see the usage at the top of tools/base-freshness.mjs)' });
    if (values['status-dir'] && (values.image || values.record))
      fail('--status-dir reads records from a directory: do not combine it with --image or --record');
    if (values.image && values.record) fail('pass either --image or --record, not both');
    const result = await checkFreshness(values);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`freshness: ${result.source} (Debian ${result.suite}/${result.arch}, ${result.packages} packages, Node.js ${result.nodeVersion})`);
      for (const finding of result.findings) console.log(`stale: ${finding.message}`);
      console.log(
        `freshness: ${result.stale ? `stale (${result.findings.length} finding${result.findings.length > 1 ? 's' : ''})` : 'fresh'}; packages snapshot ${result.snapshot}`,
      );
    }
    if (values['github-output']) {
      if (!process.env.GITHUB_OUTPUT) fail('--github-output needs GITHUB_OUTPUT (set by GitHub Actions)');
      appendFileSync(process.env.GITHUB_OUTPUT, `stale=${result.stale}\nsnapshot=${result.snapshot}\n`);
    }
    if (result.stale) process.exitCode = STALE_EXIT_CODE;
  });
}
