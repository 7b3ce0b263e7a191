// scan.mjs wiring: the gate and the SARIF report stay separate modes; a missing scanner is loud unless allowed.
// Trivy cannot be installed here, so a stand-in binary records the arguments it is called with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FINDINGS_EXIT_CODE, trivyArgs } from '../scan.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'scan-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fakeTrivy(exitCode) {
  const bin = path.join(dir, `trivy-${exitCode}`);
  writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$@" > "${bin}.args"\nexit ${exitCode}\n`);
  chmodSync(bin, 0o755);
  return bin;
}

const scanCli = (args, env) => spawnSync(process.execPath, ['tools/scan.mjs', ...args], { cwd: workspaceRoot, encoding: 'utf8', env: { ...process.env, ...env } });

describe('trivy arguments', () => {
  test('gate: fixable HIGH/CRITICAL only, non-zero exit on findings, .trivyignore honoured', () => {
    const args = trivyArgs('img');
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
});

describe('scan CLI', () => {
  test('missing trivy: one line, exit 3', () => {
    const r = scanCli(['catalog', '--ref', 'x'], { TRIVY_BIN: path.join(dir, 'absent'), PATH: '/nonexistent' });
    assert.equal(r.status, 3);
    assert.match(r.stderr, /trivy is not installed/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
  test('missing trivy with --allow-missing-scanner: says it skipped, exit 0', () => {
    const r = scanCli(['catalog', '--ref', 'x', '--allow-missing-scanner'], { TRIVY_BIN: path.join(dir, 'absent'), PATH: '/nonexistent' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /SKIPPED catalog: trivy is not installed/);
  });
  test('findings fail the gate with a clear line', () => {
    const r = scanCli(['catalog', '--ref', 'some/image:tag'], { TRIVY_BIN: fakeTrivy(FINDINGS_EXIT_CODE) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /fixable HIGH,CRITICAL vulnerabilities found/);
    assert.ok(readFileSync(`${path.join(dir, `trivy-${FINDINGS_EXIT_CODE}`)}.args`, 'utf8').split('\n').includes('some/image:tag'));
  });
  test('a trivy error (no DB, bad reference) is reported as such, not as findings', () => {
    const r = scanCli(['catalog', '--ref', 'some/image:tag'], { TRIVY_BIN: fakeTrivy(1) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /trivy failed for catalog \(exit 1\), so nothing was gated/);
    assert.doesNotMatch(r.stderr, /vulnerabilities found/);
  });
  test('a clean image passes the gate', () => {
    const r = scanCli(['catalog', '--ref', 'some/image:tag'], { TRIVY_BIN: fakeTrivy(0) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no fixable HIGH,CRITICAL/);
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
