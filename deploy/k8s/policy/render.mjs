// Renders an overlay with the Kustomize built into kubectl (`kubectl kustomize`) and parses the objects.
// kubectl missing, or one whose Kustomize is older than 5 (Debian bookworm's kubernetes-client 1.20 has 2.0.3,
// which cannot read components), is one clear line naming how to install a suitable one.
import semver from 'semver';
import YAML from 'yaml';
import { $, which } from '../../../tools/lib/process.mjs';

export const MIN_KUSTOMIZE = '5.0.0';
export const INSTALL_HINT =
  'install kubectl >= 1.27 (Kustomize >= 5): `bash .ci/install-kubectl` on Debian (its kubectl package), or https://kubernetes.io/docs/tasks/tools/';

export class RenderError extends Error {}

/** Runs kubectl (found on env.PATH) to the end; its ProcessOutput whatever the exit code. */
function kubectl(args, env) {
  const binary = which.sync('kubectl', { path: env.PATH ?? '', nothrow: true });
  if (!binary) throw new RenderError(`kubectl not found on PATH: ${INSTALL_HINT}`);
  // stdin is /dev/null: kubectl reads none
  return $.sync({ env, nothrow: true, stdio: ['ignore', 'pipe', 'pipe'] })`${binary} ${args}`;
}

/** The Kustomize version built into kubectl, checked against MIN_KUSTOMIZE. */
export function kustomizeVersion(env = process.env) {
  const result = kubectl(['version', '--client', '-o', 'json'], env);
  let version;
  try {
    version = JSON.parse(result.stdout).kustomizeVersion;
  } catch {
    version = undefined;
  }
  const clean = semver.coerce(version ?? '')?.version;
  if (!clean) throw new RenderError(`kubectl reports no Kustomize version (kubectl version --client): ${INSTALL_HINT}`);
  if (semver.lt(clean, MIN_KUSTOMIZE)) throw new RenderError(`kubectl's Kustomize ${version} is older than ${MIN_KUSTOMIZE}: ${INSTALL_HINT}`);
  return clean;
}

/** `kubectl kustomize <dir>` → the rendered objects, in order. */
export function render(dir, env = process.env) {
  kustomizeVersion(env);
  const result = kubectl(['kustomize', dir], env);
  if (!result.ok) {
    const line = String(result.stderr).trim().split('\n').pop() ?? '';
    throw new RenderError(`kubectl kustomize ${dir} failed: ${line.replace(/^E\d+ [\d:.]+\s+\d+ \S+\] /, '')}`);
  }
  return YAML.parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length) throw new RenderError(`kubectl kustomize ${dir}: unparsable output: ${doc.errors[0].message}`);
      return doc.toJS();
    })
    .filter((object) => object !== null);
}
