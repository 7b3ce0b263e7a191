// Trivy's Kubernetes misconfiguration checks (KSV: run as non-root, seccomp, privilege escalation, capabilities,
// read-only root, host namespaces and paths, resources, ...) over the rendered objects. The checks are the ones
// embedded in the trivy binary: nothing is downloaded (check-bundle update, version check and telemetry are off), so
// the result depends on the Trivy release only. Each object is its own file, so a finding names its object.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { $, which } from '../../../tools/lib/process.mjs';

export const TRIVY_INSTALL_HINT = 'install trivy (https://trivy.dev/latest/getting-started/installation/) or set TRIVY_BIN to its path';

export class TrivyError extends Error {}

/**
 * Checks whose result is set aside, and why. KSV116 (root primary or supplementary GID) fails on every object with
 * the Trivy build the tests use, pods with only non-root groups included (aquasecurity/trivy#4922, the check reads
 * no pod template); the groups are the images' own, checked by the run-as-image-user rule (rules.mjs).
 */
export const SET_ASIDE = { KSV116: 'aquasecurity/trivy#4922' };

/** The trivy binary: TRIVY_BIN, else `trivy` on PATH; absent is one line saying how to install it. */
export function findTrivy(env = process.env) {
  if (env.TRIVY_BIN) {
    if (!existsSync(env.TRIVY_BIN)) throw new TrivyError(`TRIVY_BIN=${env.TRIVY_BIN} does not exist: ${TRIVY_INSTALL_HINT}`);
    return env.TRIVY_BIN;
  }
  const found = which.sync('trivy', { path: env.PATH ?? '', nothrow: true });
  if (!found) throw new TrivyError(`trivy not found on PATH: ${TRIVY_INSTALL_HINT}`);
  return found;
}

/** Whether a result is of a SET_ASIDE check, by its ID (`KSV116`) or its AVD ID (`AVD-KSV-0116`). */
export const isSetAside = (m) =>
  Object.hasOwn(SET_ASIDE, m.ID ?? '') || Object.keys(SET_ASIDE).some((id) => m.AVDID === `AVD-KSV-${id.slice(3).padStart(4, '0')}`);

const fileName = (object, index) =>
  `${String(index).padStart(3, '0')}-${`${object?.kind ?? 'unknown'}-${object?.metadata?.name ?? 'unnamed'}`.replace(/[^A-Za-z0-9.-]+/g, '_')}.yaml`;

/**
 * Runs `trivy config` over the objects.
 * @returns {{ findings: {id: string, object: string, severity: string, message: string}[], passed: number, setAside: number }}
 *   findings: failed checks, one per check and object; passed: passed check runs; setAside: failures of SET_ASIDE checks
 */
export function trivyFindings(objects, { env = process.env, trivy = findTrivy(env) } = {}) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'k8s-trivy-'));
  try {
    const dir = path.join(work, 'objects');
    mkdirSync(dir);
    const byFile = new Map();
    objects.forEach((object, index) => {
      const file = fileName(object, index);
      writeFileSync(path.join(dir, file), YAML.stringify(object));
      byFile.set(file, `${object?.kind}/${object?.metadata?.name}`);
    });
    const result = $.sync({
      env: {
        ...env,
        // a private cache unless one is given: no check bundle downloaded earlier changes what the embedded checks say
        TRIVY_CACHE_DIR: env.TRIVY_CACHE_DIR || path.join(work, 'cache'),
        TRIVY_SKIP_POLICY_UPDATE: 'true', // the flag's name up to Trivy 0.50 ...
        TRIVY_SKIP_CHECK_UPDATE: 'true', // ... and after
        TRIVY_SKIP_VERSION_CHECK: 'true',
        TRIVY_DISABLE_TELEMETRY: 'true',
      },
      // run in the scratch dir: no .trivyignore or trivy.yaml of whatever directory we were started in applies
      cwd: work,
      nothrow: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })`${trivy} config --format json --quiet --exit-code 0 ${dir}`;
    if (!result.ok) {
      const line = String(result.stderr).trim().split('\n').pop() ?? '';
      throw new TrivyError(`trivy config failed (exit ${result.exitCode}): ${line}`);
    }
    let report;
    try {
      report = JSON.parse(result.stdout);
    } catch {
      throw new TrivyError('trivy config printed no JSON report');
    }
    const findings = [];
    let passed = 0;
    let setAside = 0;
    const checked = new Set();
    for (const entry of report.Results ?? []) {
      const object = byFile.get(path.basename(entry.Target ?? ''));
      if (!object) continue;
      checked.add(object);
      passed += entry.MisconfSummary?.Successes ?? 0;
      const failed = new Map();
      for (const m of entry.Misconfigurations ?? []) {
        if (m.Status !== 'FAIL') continue;
        const id = m.ID || m.AVDID;
        if (isSetAside(m)) setAside += 1;
        else if (!failed.has(id)) failed.set(id, { id, object, severity: m.Severity, message: m.Message || m.Title });
      }
      findings.push(...failed.values());
    }
    // Fail closed: an object Trivy did not recognise as Kubernetes was not checked at all.
    const unchecked = [...byFile.values()].filter((object) => !checked.has(object));
    if (unchecked.length) throw new TrivyError(`trivy config checked no Kubernetes object in ${unchecked.join(', ')}`);
    return { findings, passed, setAside };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
