#!/usr/bin/env node
// The gate every workflow runs, and the one the tests run with a real Trivy. For each platform of the pushed digest
// (or the local build when nothing was pushed):
//   1. Trivy: fixable HIGH/CRITICAL vulnerabilities and HIGH/CRITICAL secrets fail (.trivyignore honoured, exp: too)
//   2. SBOMs (CycloneDX and SPDX JSON) written beside the build record: what Trivy sees in the image
//   3. the Node.js runtime, as that SBOM names it, against Node.js's release index: Trivy has no advisories for a
//      runtime installed outside a package manager (aquasecurity/trivy#10951), so a newer security release of the same
//      major line fails the gate, naming the version to move to
// The result goes into the build record (`scan`, per platform, for the digest scanned): tools/tag.mjs and the signing
// steps refuse a digest without a passing one. `--sarif FILE` is the other mode, kept apart because SARIF output drops
// the severity filter: a full report that never fails on findings and records nothing.
// Without Trivy, or without a reachable release index: one line and exit 3, unless skipping that part is allowed
// explicitly (--allow-missing-scanner, --allow-missing-node-index; then a SKIPPED line, and the scan does not pass).
//
// Usage: node tools/scan.mjs <project> [--ref IMAGE] [--sarif FILE] [--sbom-dir DIR] [--allow-missing-scanner]
//          [--allow-missing-node-index]
//   --ref       scan this image instead of the project's build (nothing is recorded)
//   --sbom-dir  where the SBOMs go (default: beside the build record, dist/docker/<project>.<os>-<arch>.{cdx,spdx}.json)
//   --ignorefile  accepted findings (default: the workspace's .trivyignore)
// Env: TRIVY_BIN (the binary), NODE_RELEASE_INDEX (URL or file; default https://nodejs.org/dist/index.json), and
//      Trivy's own TRIVY_* settings (e.g. TRIVY_CACHE_DIR, TRIVY_SKIP_DB_UPDATE).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CliError, fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { $, lastLine, streamLines, which } from './lib/process.mjs';
import { docker } from './lib/docker-engine.mjs';
import { readRecord, recordPath, recordsDir, writeRecord } from './lib/build-record.mjs';
import { loadReleaseIndex, securityFinding, securityStatus } from './lib/node-releases.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

export const GATE_SEVERITIES = 'HIGH,CRITICAL';
export const GATE_SCANNERS = 'vuln,secret';
// Trivy exits 1 on its own errors (no DB, bad reference, ...): findings get an exit code of their own, in Trivy and in
// this tool, so the two are never confused.
export const FINDINGS_EXIT_CODE = 5;
export const MISSING_EXIT_CODE = 3;
/** How the base image names its runtime for scanners (docker/base/Dockerfile writes it). */
export const NODE_PURL_PREFIX = 'pkg:bitnami/node@';

/** Trivy arguments for a mode; exported so tests can check the gate and the report stay distinct. */
export function trivyArgs(ref, { sarif, sbom, remote = false, ignorefile = path.join(workspaceRoot, '.trivyignore') } = {}) {
  const source = remote ? ['--image-src', 'remote'] : [];
  if (sbom) return ['image', '--format', sbom.format, '--output', sbom.output, '--no-progress', ...source, ref];
  const common = ['image', '--scanners', GATE_SCANNERS, '--ignorefile', ignorefile, '--no-progress', ...source];
  if (sarif) return [...common, '--format', 'sarif', '--output', sarif, '--exit-code', '0', ref];
  return [...common, '--severity', GATE_SEVERITIES, '--ignore-unfixed', '--exit-code', String(FINDINGS_EXIT_CODE), ref];
}

/** The Node.js runtime version a CycloneDX SBOM names (pkg:bitnami/node), or null. */
export function nodeRuntimeVersion(cyclonedx) {
  const component = (cyclonedx.components ?? []).find((c) => typeof c.purl === 'string' && c.purl.startsWith(NODE_PURL_PREFIX));
  return component?.version ?? null;
}

async function findTrivy() {
  const trivy = process.env.TRIVY_BIN || (await which('trivy', { nothrow: true }));
  return trivy && existsSync(trivy) ? trivy : null;
}

/** What to scan: every platform of the pushed digest, else the local build. */
async function targetsOf(project, record) {
  if (record.platforms && record.pushed?.image) {
    return Object.entries(record.platforms).map(([platform, { digest }]) => ({ platform, digest, ref: `${record.pushed.image}@${digest}`, remote: true }));
  }
  const platform = await docker(['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}', record.imageId]);
  return [{ platform, digest: record.imageId, ref: record.imageId, remote: false }];
}

function releaseIndexLoader(allowMissing) {
  let loaded;
  return () =>
    (loaded ??= loadReleaseIndex().then(
      (index) => ({ index }),
      (error) => {
        if (!(error instanceof CliError) || !allowMissing) throw error;
        return { skipped: error.message };
      },
    ));
}

async function gateTarget(trivy, project, target, { releaseIndex, sbomDir, ignorefile }) {
  const label = `${project} ${target.platform}`;
  const result = { ref: target.ref, digest: target.digest, findings: [] };
  console.log(`scan: ${label}: ${target.ref}`);
  // Trivy's table is the evidence of the gate: its output goes to the terminal as it comes.
  const gate = await streamLines($({ nothrow: true })`${trivy} ${trivyArgs(target.ref, { remote: target.remote, ignorefile })}`);
  if (gate.exitCode === FINDINGS_EXIT_CODE) {
    result.vulnerabilities = 'fail';
    result.findings.push(
      `fixable ${GATE_SEVERITIES} vulnerabilities or secrets found (see the table above; accept a risk only in .trivyignore with a reason and exp:)`,
    );
  } else if (gate.exitCode !== 0) {
    fail(`trivy failed for ${label} (exit ${gate.exitCode}), so nothing was gated: see its output above`, 1);
  } else result.vulnerabilities = 'pass';

  const stem = path.join(sbomDir, `${project}.${target.platform.replaceAll('/', '-')}`);
  mkdirSync(sbomDir, { recursive: true });
  result.sbom = {};
  for (const [key, format, suffix] of [
    ['cyclonedx', 'cyclonedx', 'cdx.json'],
    ['spdx', 'spdx-json', 'spdx.json'],
  ]) {
    const output = `${stem}.${suffix}`;
    const run = await $({ nothrow: true })`${trivy} ${trivyArgs(target.ref, { sbom: { format, output }, remote: target.remote })}`;
    if (!run.ok || !existsSync(output)) fail(`trivy could not write the ${format} SBOM of ${label}: ${lastLine(run) || `exit ${run.exitCode}`}`, 1);
    result.sbom[key] = path.relative(workspaceRoot, output);
  }

  const version = nodeRuntimeVersion(JSON.parse(readFileSync(`${stem}.cdx.json`, 'utf8')));
  if (!version) {
    result.runtime = { verdict: 'fail' };
    result.findings.push(`the Node.js runtime is not in Trivy's SBOM (no ${NODE_PURL_PREFIX}... component), so it cannot be gated`);
  } else {
    const { index, skipped } = await releaseIndex();
    if (skipped) {
      console.log(`scan: SKIPPED the Node.js runtime gate for ${label} (node ${version}): ${skipped} (skipping allowed by --allow-missing-node-index)`);
      result.runtime = { version, verdict: 'skipped' };
    } else {
      const finding = securityFinding(securityStatus(version, index));
      result.runtime = { version, verdict: finding ? 'fail' : 'pass', ...(finding ? { finding } : {}) };
      if (finding) result.findings.push(finding);
      else console.log(`scan: ${label}: Node.js ${version} is not behind a security release of its line`);
    }
  }
  // A skipped runtime gate was asked for explicitly (--allow-missing-node-index); the record says it was skipped.
  result.passed = result.findings.length === 0 && result.runtime.verdict !== 'fail';
  return result;
}

/**
 * Gives every run of the report the code-scanning category image-<project> (runAutomationDetails.id), so the reports
 * of a batch of images can be uploaded together (one upload of a directory) and each image keeps its own category.
 */
export function categorizeSarif(file, project) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  for (const run of report.runs ?? []) run.automationDetails = { ...run.automationDetails, id: `image-${project}/` };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

export async function scan(project, { sarif, allowMissingScanner = false, allowMissingNodeIndex = false, ref, sbomDir = recordsDir(), ignorefile } = {}) {
  const record = ref ? null : readRecord(recordPath(project));
  const trivy = await findTrivy();
  if (!trivy) {
    if (allowMissingScanner) {
      console.log(`scan: SKIPPED ${project}: trivy is not installed (skipping allowed by --allow-missing-scanner)`);
      return { skipped: true };
    }
    fail(
      'trivy is not installed: install it (https://trivy.dev/latest/getting-started/installation/) or pass --allow-missing-scanner to skip scanning explicitly',
      MISSING_EXIT_CODE,
    );
  }
  const targets = ref ? [{ platform: 'image', digest: null, ref, remote: false }] : await targetsOf(project, record);

  if (sarif) {
    // One report per image: the first platform (the packages are the same on every platform).
    mkdirSync(path.dirname(path.resolve(sarif)), { recursive: true });
    const run = await streamLines($({ nothrow: true })`${trivy} ${trivyArgs(targets[0].ref, { sarif, remote: targets[0].remote, ignorefile })}`);
    if (run.exitCode !== 0) fail(`trivy failed for ${project} (exit ${run.exitCode}), so nothing was reported: see its output above`, 1);
    categorizeSarif(sarif, project);
    console.log(`scan: ${project}: SARIF report written to ${sarif}`);
    return { skipped: false };
  }

  const releaseIndex = releaseIndexLoader(allowMissingNodeIndex);
  const platforms = {};
  for (const target of targets) platforms[target.platform] = await gateTarget(trivy, project, target, { releaseIndex, sbomDir, ignorefile });
  const failed = Object.entries(platforms).filter(([, result]) => !result.passed);
  const summary = failed.length
    ? failed.map(([platform, result]) => `${platform}: ${result.findings.join('; ') || `runtime gate ${result.runtime.verdict}`}`).join('; ')
    : `every platform passed (${Object.keys(platforms).join(', ')})`;
  const result = { digest: record?.digest ?? record?.imageId ?? null, passed: failed.length === 0, summary, platforms };
  if (record) writeRecord(recordPath(project), { ...record, scan: { ...result, at: new Date().toISOString() } });
  if (failed.length) fail(`${project}: ${summary}`, FINDINGS_EXIT_CODE);
  const runtime = Object.values(platforms).some((r) => r.runtime.verdict === 'skipped') ? 'Node.js runtime gate skipped' : 'Node.js runtime current';
  console.log(`scan: ${project}: passed: no fixable ${GATE_SEVERITIES} vulnerabilities, no secrets, ${runtime} (${Object.keys(platforms).join(', ')})`);
  return { skipped: false, ...result };
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({
      options: {
        sarif: { type: 'string' },
        'sbom-dir': { type: 'string' },
        ignorefile: { type: 'string' },
        'allow-missing-scanner': { type: 'boolean' },
        'allow-missing-node-index': { type: 'boolean' },
        ref: { type: 'string' },
      },
      allowPositionals: true,
    });
    await scan(projectArgument(positionals, 'node tools/scan.mjs catalog'), {
      sarif: values.sarif,
      ref: values.ref,
      ...(values['sbom-dir'] ? { sbomDir: path.resolve(values['sbom-dir']) } : {}),
      ...(values.ignorefile ? { ignorefile: path.resolve(values.ignorefile) } : {}),
      allowMissingScanner: values['allow-missing-scanner'] || process.env.SCAN_ALLOW_MISSING_SCANNER === 'true',
      allowMissingNodeIndex: values['allow-missing-node-index'] || process.env.SCAN_ALLOW_MISSING_NODE_INDEX === 'true',
    });
  });
}
