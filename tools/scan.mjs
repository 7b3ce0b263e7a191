#!/usr/bin/env node
// Scans one built image with Trivy. Two modes, kept apart because SARIF output ignores the severity filter:
//   gate (default)   fail on fixable HIGH/CRITICAL vulnerabilities, honouring .trivyignore
//   --sarif FILE     write a full SARIF report for code scanning; never fails on findings
// Without Trivy it says so in one line and fails, unless skipping was allowed explicitly (--allow-missing-scanner).
//
// Usage: node tools/scan.mjs <project> [--sarif FILE] [--allow-missing-scanner] [--ref IMAGE]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { which } from 'zx';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { execa } from './lib/exec.mjs';
import { builtImage } from './lib/image-inspection.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

export const GATE_SEVERITIES = 'HIGH,CRITICAL';
// Trivy exits 1 on its own errors (no DB, bad reference, ...): findings get an exit code of their own so the two
// are never confused.
export const FINDINGS_EXIT_CODE = 5;

/** Trivy arguments for a mode; exported so tests can check the gate and the report stay distinct. */
export function trivyArgs(ref, { sarif } = {}) {
  const common = ['image', '--scanners', 'vuln', '--ignorefile', path.join(workspaceRoot, '.trivyignore'), '--no-progress'];
  if (sarif) return [...common, '--format', 'sarif', '--output', sarif, '--exit-code', '0', ref];
  return [...common, '--severity', GATE_SEVERITIES, '--ignore-unfixed', '--exit-code', String(FINDINGS_EXIT_CODE), ref];
}

export async function scan(project, { sarif, allowMissingScanner = false, ref } = {}) {
  let target = ref;
  if (!target) {
    try {
      target = builtImage(project).imageId;
    } catch (error) {
      fail(error.message);
    }
  }
  const trivy = process.env.TRIVY_BIN || (await which('trivy', { nothrow: true }));
  if (!trivy || !existsSync(trivy)) {
    if (allowMissingScanner) {
      console.log(`scan: SKIPPED ${project}: trivy is not installed (skipping allowed by --allow-missing-scanner)`);
      return { skipped: true };
    }
    fail('trivy is not installed: install it (https://trivy.dev/latest/getting-started/installation/) or pass --allow-missing-scanner to skip scanning explicitly', 3);
  }
  const result = await execa(trivy, trivyArgs(target, { sarif }), { reject: false, stdio: 'inherit' });
  if (!sarif && result.exitCode === FINDINGS_EXIT_CODE) {
    fail(`${project}: fixable ${GATE_SEVERITIES} vulnerabilities found (see the table above; accept a risk only in .trivyignore with a reason and exp:)`, 1);
  }
  if (result.exitCode !== 0) fail(`trivy failed for ${project} (exit ${result.exitCode}), so nothing was ${sarif ? 'reported' : 'gated'}: see its output above`, 1);
  console.log(sarif ? `scan: ${project}: SARIF report written to ${sarif}` : `scan: ${project}: no fixable ${GATE_SEVERITIES} vulnerabilities`);
  return { skipped: false };
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({ options: { sarif: { type: 'string' }, 'allow-missing-scanner': { type: 'boolean' }, ref: { type: 'string' } }, allowPositionals: true });
    if (positionals.length !== 1) fail('expected exactly one project name, e.g. node tools/scan.mjs catalog');
    await scan(positionals[0], {
      sarif: values.sarif,
      ref: values.ref,
      allowMissingScanner: values['allow-missing-scanner'] || process.env.SCAN_ALLOW_MISSING_SCANNER === 'true',
    });
  });
}
