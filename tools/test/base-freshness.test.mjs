// tools/base-freshness.mjs on fixtures (no Docker, no network): dpkg records against a file:// Debian mirror in a
// fresh and a stale state, Node.js against the release index fixture; Debian version ordering against dpkg's rules;
// bad input is one line with the documented exit code. The run against the real mirror and the built base images is
// docker/base/test/freshness.test.mjs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { compareDebianVersions } from '../lib/debian/version.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';
import { STALE_EXIT_CODE } from '../base-freshness.mjs';
import { runToolAsync } from './support/run-tool.mjs';

const fixtures = path.join(import.meta.dirname, 'fixtures/debian');
const url = (dir) => pathToFileURL(path.join(fixtures, dir)).href;
const nodeIndex = path.join(import.meta.dirname, 'fixtures/node-release-index.json');
const dir = mkdtempSync(path.join(os.tmpdir(), 'base-freshness-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function freshness(args, env = {}) {
  const { status, stdout, stderr } = await runToolAsync(path.join(workspaceRoot, 'tools/base-freshness.mjs'), args, {
    env: { ...process.env, NODE_RELEASE_INDEX: nodeIndex, ...env },
  });
  return { code: status, stdout, stderr };
}

const fixtureArgs = (security, node = '24.22.3', mirror = url('mirror')) => [
  '--status-dir',
  path.join(fixtures, 'status.d'),
  '--node-version',
  node,
  '--mirror',
  mirror,
  '--security-mirror',
  url(security),
];

describe('base freshness on fixtures', () => {
  test('fresh: every package at the newest version of trixie, -updates or -security, Node.js current: exit 0', async () => {
    const { code, stdout } = await freshness(fixtureArgs('security-fresh'));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /Debian trixie\/amd64, 3 packages, Node\.js 24\.22\.3/);
    assert.match(stdout, /freshness: fresh; packages snapshot [0-9a-f]{16}/);
    assert.doesNotMatch(stdout, /^stale:/m);
  });

  test('stale: a newer libc6 on the security mirror is one line naming both versions and the suite: exit 10 (stale)', async () => {
    const { code, stdout } = await freshness(fixtureArgs('security-stale'));
    assert.equal(code, 10, stdout);
    assert.deepEqual(
      stdout.split('\n').filter((l) => l.startsWith('stale:')),
      ['stale: libc6 2.41-12+deb13u5 is behind 2.41-12+deb13u6 (trixie-security)'],
    );
  });

  test('stale: a Node.js runtime behind a security release of its line: exit 10 (stale)', async () => {
    const { code, stdout } = await freshness(fixtureArgs('security-fresh', '24.21.0'));
    assert.equal(code, 10);
    assert.match(stdout, /^stale: Node\.js 24\.21\.0 is behind security release 24\.22\.2: move to 24\.22\.3$/m);
  });

  test('a package the mirror no longer has is stale (it can no longer be verified or updated)', async () => {
    const status = path.join(dir, 'status-gone');
    cpSync(path.join(fixtures, 'status.d'), status, { recursive: true });
    writeFileSync(path.join(status, 'libgone1'), 'Package: libgone1\nVersion: 1.0-1\nArchitecture: amd64\nStatus: install ok installed\n');
    const { code, stdout } = await freshness([
      '--status-dir',
      status,
      '--node-version',
      '24.22.3',
      '--mirror',
      url('mirror'),
      '--security-mirror',
      url('security-fresh'),
    ]);
    assert.equal(code, 10);
    assert.match(stdout, /^stale: libgone1 1\.0-1 is not on the mirror for trixie\/amd64 any more$/m);
  });

  test("--github-output: stale and a snapshot id that changes with the mirror's versions", async () => {
    const outputs = {};
    for (const state of ['security-fresh', 'security-stale']) {
      const file = path.join(dir, `${state}.out`);
      writeFileSync(file, '');
      await freshness([...fixtureArgs(state), '--github-output'], { GITHUB_OUTPUT: file });
      outputs[state] = Object.fromEntries(
        readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split('=')),
      );
    }
    assert.equal(outputs['security-fresh'].stale, 'false');
    assert.equal(outputs['security-stale'].stale, 'true');
    assert.match(outputs['security-fresh'].snapshot, /^[0-9a-f]{16}$/);
    assert.notEqual(outputs['security-fresh'].snapshot, outputs['security-stale'].snapshot);
  });

  test('bad input and unreachable sources: one line, exit 2 (input) or 3 (could not ask), never a stack', async () => {
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    const badRecord = path.join(dir, 'status-bad');
    cpSync(path.join(fixtures, 'status.d'), badRecord, { recursive: true });
    writeFileSync(path.join(badRecord, 'libc6'), 'Package: libc6\nVersion: not a version\nArchitecture: amd64\n');
    const cases = [
      [['--status-dir', path.join(dir, 'missing')], 2, /no such directory/],
      [[...fixtureArgs('security-fresh'), '--mirror', url('mirror')], 2, /--mirror given more than once/],
      [['--bogus'], 2, /unknown flag --bogus \(see the usage at the top of tools\/base-freshness\.mjs\)\n$/],
      [['--status-dir', badRecord, '--node-version', '24.22.3'], 2, /dpkg record of 'libc6': 'not a version' is not a Debian version/],
      [['--status-dir', path.join(fixtures, 'status.d')], 2, /Node\.js version .* is unknown/],
      [
        fixtureArgs('security-fresh', '24.22.3', `http://127.0.0.1:${port}/debian`),
        3,
        /cannot read the package index http:\/\/127\.0\.0\.1:\d+\/debian\/dists\/trixie\/main\/binary-amd64\/Packages\(\.gz\): ECONNREFUSED/,
      ],
      [fixtureArgs('security-fresh', '24.22.3', url('security-fresh')), 3, /has no packages for trixie\/amd64/],
      [[...fixtureArgs('security-fresh'), '--github-output'], 2, /needs GITHUB_OUTPUT/],
    ];
    for (const [args, exitCode, message] of cases) {
      const result = await freshness(args, { GITHUB_OUTPUT: '' });
      assert.equal(result.code, exitCode, `${args.join(' ')}: ${result.stderr}`);
      assert.notEqual(result.code, STALE_EXIT_CODE, 'a failure never reads as stale');
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });
});

describe('Debian version order (as dpkg --compare-versions decides)', () => {
  const cases = [
    ['1.0', '1.0', 0],
    ['1.0~rc1', '1.0', -1],
    ['1.0~~', '1.0~', -1],
    ['2.41-12+deb13u4', '2.41-12+deb13u5', -1],
    ['13.8+deb13u8', '13.8+deb13u10', -1],
    ['1:1.0', '2.0', 1],
    ['1.0-1', '1.0-1+b1', -1],
    ['2026e-0+deb13u1', '2026f-0+deb13u1', -1],
    ['1.10', '1.9', 1],
    ['1.0a', '1.0+', -1],
    ['1.0', '1.0-0', 0],
    ['14.2.0-19', '14.2.0-19~bpo', 1],
    ['0.5', '0.5.0', -1],
    ['1.2-3-4', '1.2-3-5', -1],
  ];
  for (const [a, b, expected] of cases) {
    test(`${a} ${['<', '=', '>'][expected + 1]} ${b}`, () => {
      assert.equal(compareDebianVersions(a, b), expected);
      assert.equal(compareDebianVersions(b, a), expected ? -expected : 0);
    });
  }
  test('rejects what is not a version', () => {
    for (const bad of ['', 'abc', '1.0 2', 'a:1.0']) assert.throws(() => compareDebianVersions(bad, '1.0'), /is not a Debian version/);
  });
});
