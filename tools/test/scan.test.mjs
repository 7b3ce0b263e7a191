// scan.mjs wiring without Docker: the gate and the SARIF report stay separate modes; a missing scanner or release
// index is loud unless allowed; the runtime gate reads the Node.js version from the SBOM Trivy writes.
// A stand-in binary records the arguments it is called with (the real Trivy runs in docker/service/test/trivy.test.mjs
// and the e2e suite).
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FINDINGS_EXIT_CODE, categorizeSarif, nodeRuntimeVersion, trivyArgs } from '../scan.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';
import { runTool } from './support/run-tool.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scan-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Exits `exitCode` as the gate; asked for an SBOM, writes one naming Node.js `node` (or no runtime when null). */
function fakeTrivy(exitCode, { node = '24.21.0' } = {}) {
  const bin = path.join(dir, `trivy-${exitCode}-${node}`);
  const cdx = JSON.stringify({
    bomFormat: 'CycloneDX',
    components: node ? [{ name: 'node', version: node, purl: `pkg:bitnami/node@${node}?arch=amd64` }] : [],
  });
  writeFileSync(
    bin,
    `#!/bin/sh
printf '%s\\n' "$@" >> "${bin}.args"
format=; output=
while [ $# -gt 0 ]; do case "$1" in --format) format=$2; shift ;; --output) output=$2; shift ;; esac; shift; done
case "$format" in
  cyclonedx) printf '%s' '${cdx}' > "$output"; exit 0 ;;
  spdx-json) printf '{}' > "$output"; exit 0 ;;
esac
exit ${exitCode}
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

const index = (releases) => {
  const file = path.join(dir, `index-${releases.length}-${releases[0]?.version}.json`);
  writeFileSync(file, JSON.stringify(releases));
  return file;
};
const CURRENT = index([{ version: 'v24.21.0', security: false }]);
const BEHIND = index([
  { version: 'v24.22.0', security: true },
  { version: 'v24.21.0', security: false },
]);
const sboms = path.join(dir, 'sboms');

const scanCli = (args, env) => runTool('tools/scan.mjs', [...args, '--sbom-dir', sboms], { env: { ...process.env, NODE_RELEASE_INDEX: CURRENT, ...env } });

describe('trivy arguments', () => {
  test('gate: fixable HIGH/CRITICAL vulnerabilities and secrets, non-zero exit on findings, .trivyignore honoured', () => {
    const args = trivyArgs('img');
    assert.equal(args[args.indexOf('--scanners') + 1], 'vuln,secret');
    assert.deepEqual(args.slice(args.indexOf('--severity'), args.indexOf('--severity') + 2), ['--severity', 'HIGH,CRITICAL']);
    assert.ok(args.includes('--ignore-unfixed'));
    assert.equal(args[args.indexOf('--exit-code') + 1], String(FINDINGS_EXIT_CODE));
    assert.notEqual(FINDINGS_EXIT_CODE, 1, 'findings must not share exit 1 with trivy errors');
    assert.equal(args[args.indexOf('--ignorefile') + 1], path.join(workspaceRoot, '.trivyignore'));
  });
  test('report: SARIF with no severity filter and never failing on findings', () => {
    const args = trivyArgs('img', { sarif: 'out.sarif' });
    assert.equal(args.includes('--severity'), false);
    assert.equal(args[args.indexOf('--format') + 1], 'sarif');
    assert.equal(args[args.indexOf('--exit-code') + 1], '0');
  });
  test("report: every run gets the category image-<project>, so a batch's reports upload together (one per image)", () => {
    const file = path.join(dir, 'report.sarif');
    writeFileSync(
      file,
      JSON.stringify({
        version: '2.1.0',
        runs: [
          { tool: { driver: { name: 'Trivy' } }, results: [] },
          { results: [], automationDetails: { guid: 'g' } },
        ],
      }),
    );
    categorizeSarif(file, 'orders');
    const report = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(
      report.runs.map((run) => run.automationDetails),
      [{ id: 'image-orders/' }, { guid: 'g', id: 'image-orders/' }],
    );
    assert.equal(report.runs[0].tool.driver.name, 'Trivy', 'the rest of the report is kept');
  });
  test('a pushed digest is read from the registry, never from a local image of the same name', () => {
    const args = trivyArgs('r.example/a@sha256:00', { remote: true });
    assert.equal(args[args.indexOf('--image-src') + 1], 'remote');
    assert.equal(trivyArgs('img').includes('--image-src'), false);
  });
});

describe('scan CLI', () => {
  test('missing trivy: one line, exit 3', () => {
    const r = scanCli(['catalog', '--ref', 'x'], { TRIVY_BIN: path.join(dir, 'absent'), PATH: '/nonexistent' });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /trivy is not installed/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
  test('missing trivy with --allow-missing-scanner: says it skipped, exit 0', () => {
    const r = scanCli(['catalog', '--ref', 'x', '--allow-missing-scanner'], { TRIVY_BIN: path.join(dir, 'absent'), PATH: '/nonexistent' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /SKIPPED catalog: trivy is not installed/);
  });
  test("findings fail the gate with a clear line and the tool's findings exit code", () => {
    const bin = fakeTrivy(FINDINGS_EXIT_CODE);
    const r = scanCli(['catalog', '--ref', 'some/image:tag'], { TRIVY_BIN: bin });
    assert.equal(r.status, FINDINGS_EXIT_CODE);
    assert.match(r.stderr, /fixable HIGH,CRITICAL vulnerabilities or secrets found/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(readFileSync(`${bin}.args`, 'utf8').split('\n').includes('some/image:tag'));
  });
  test('a runtime behind a security release of its line fails, naming the version to move to', () => {
    const r = scanCli(['catalog', '--ref', 'img'], { TRIVY_BIN: fakeTrivy(0), NODE_RELEASE_INDEX: BEHIND });
    assert.equal(r.status, FINDINGS_EXIT_CODE);
    assert.match(r.stderr, /Node\.js 24\.21\.0 is behind security release 24\.22\.0: move to 24\.22\.0/);
  });
  test("a runtime missing from Trivy's SBOM fails: it could not be gated", () => {
    const r = scanCli(['catalog', '--ref', 'img'], { TRIVY_BIN: fakeTrivy(0, { node: null }) });
    assert.equal(r.status, FINDINGS_EXIT_CODE);
    assert.match(r.stderr, /the Node\.js runtime is not in Trivy's SBOM/);
  });
  test('no reachable release index: one line, exit 3; explicitly allowed: a SKIPPED line, exit 0', () => {
    const env = { TRIVY_BIN: fakeTrivy(0), NODE_RELEASE_INDEX: path.join(dir, 'absent-index.json') };
    const r = scanCli(['catalog', '--ref', 'img'], env);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /cannot read the Node\.js release index/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    const allowed = scanCli(['catalog', '--ref', 'img', '--allow-missing-node-index'], env);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.match(allowed.stdout, /SKIPPED the Node\.js runtime gate/);
  });
  test('a trivy error (no DB, bad reference) is reported as such, not as findings', () => {
    const r = scanCli(['catalog', '--ref', 'some/image:tag'], { TRIVY_BIN: fakeTrivy(1) });
    assert.notEqual(FINDINGS_EXIT_CODE, 1);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /trivy failed for catalog image \(exit 1\), so nothing was gated/);
    assert.doesNotMatch(r.stderr, /vulnerabilities found/);
  });
  test('a clean image passes the gate', () => {
    const r = scanCli(['catalog', '--ref', 'some/image:tag'], { TRIVY_BIN: fakeTrivy(0) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no fixable HIGH,CRITICAL vulnerabilities, no secrets, Node\.js runtime current/);
  });
  test('the runtime version is read from the bitnami purl, not from an npm package called node', () => {
    assert.equal(
      nodeRuntimeVersion({
        components: [
          { name: 'node', version: '1.0.0', purl: 'pkg:npm/node@1.0.0' },
          { name: 'node', version: '24.1.0', purl: 'pkg:bitnami/node@24.1.0?arch=arm64' },
        ],
      }),
      '24.1.0',
    );
    assert.equal(nodeRuntimeVersion({ components: [{ name: 'node', version: '1.0.0', purl: 'pkg:npm/node@1.0.0' }] }), null);
  });
});

describe('.trivyignore', () => {
  test('every accepted finding has a justification above it and an expiry', () => {
    const lines = readFileSync(path.join(workspaceRoot, '.trivyignore'), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim() || line.trim().startsWith('#')) return;
      assert.match(line, /\sexp:\d{4}-\d{2}-\d{2}\b/, `line ${i + 1} needs exp:YYYY-MM-DD`);
      assert.match(lines[i - 1] ?? '', /^#\s*\S/, `line ${i + 1} needs a justification comment above it`);
    });
  });
});
