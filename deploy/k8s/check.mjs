#!/usr/bin/env node
// Static proof for the Kubernetes manifests (no cluster needed): renders each overlay with `kubectl kustomize`,
// validates every object against the Kubernetes API schema (policy/schema.mjs), runs Trivy's Kubernetes checks
// (policy/trivy.mjs; trivy on PATH or TRIVY_BIN) and the repository's own policy (policy/rules.mjs) against its facts
// (policy/facts.mjs). Run it before applying.
//
// Usage: node deploy/k8s/check.mjs [dev|production]...   (default: both)
// Exit 0 when everything passes; 1 with one line per problem; 2 for usage errors, an overlay that cannot be rendered
// (kubectl missing or too old, a broken kustomization), no trivy, or facts that cannot be read.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail, isMain, runMain } from '../../tools/lib/cli.mjs';
import { FactsError, readFacts } from './policy/facts.mjs';
import { render, RenderError } from './policy/render.mjs';
import { checkObjects, RULES } from './policy/rules.mjs';
import { SCHEMA_VERSION, validateObjects } from './policy/schema.mjs';
import { SET_ASIDE, TrivyError, trivyFindings } from './policy/trivy.mjs';

export const K8S_DIR = path.dirname(fileURLToPath(import.meta.url));
export const WORKSPACE = path.resolve(K8S_DIR, '../..');
export const ENVIRONMENTS = ['dev', 'production'];

/**
 * Renders and checks one overlay: { objects, schemaProblems, trivy: {findings, passed, setAside}, policyProblems }.
 * `trivy` is the binary to use (default: TRIVY_BIN, else trivy on PATH); `facts` default to this repository's.
 */
export async function checkOverlay(environment, { dir = path.join(K8S_DIR, 'overlays', environment), facts, env = process.env, trivy } = {}) {
  const objects = render(dir, env);
  const schemaProblems = await validateObjects(objects);
  const trivyResult = trivyFindings(objects, { env, ...(trivy ? { trivy } : {}) });
  const policyProblems = checkObjects(objects, facts ?? (await readFacts(WORKSPACE)), { environment });
  return { objects, schemaProblems, trivy: trivyResult, policyProblems };
}

async function main(argv) {
  const unknown = argv.filter((arg) => !ENVIRONMENTS.includes(arg));
  if (unknown.length) fail(`unknown overlay ${unknown[0]}; choose from ${ENVIRONMENTS.join(', ')}`);
  let failed = 0;
  let facts;
  for (const environment of argv.length ? argv : ENVIRONMENTS) {
    let result;
    try {
      facts ??= await readFacts(WORKSPACE);
      result = await checkOverlay(environment, { facts });
    } catch (error) {
      if (error instanceof RenderError || error instanceof TrivyError || error instanceof FactsError) fail(error.message);
      throw error;
    }
    const { objects, schemaProblems, trivy, policyProblems } = result;
    for (const problem of schemaProblems) console.log(`${environment}: schema: ${problem}`);
    for (const { id, object, severity, message } of trivy.findings) console.log(`${environment}: trivy ${id} (${severity}): ${object}: ${message}`);
    for (const { rule, message } of policyProblems) console.log(`${environment}: ${rule}: ${message}`);
    failed += schemaProblems.length + trivy.findings.length + policyProblems.length;
    if (!schemaProblems.length && !trivy.findings.length && !policyProblems.length) {
      const aside = trivy.setAside
        ? ` (${Object.entries(SET_ASIDE)
            .map(([id, why]) => `${id} set aside: ${why}`)
            .join('; ')})`
        : '';
      console.log(
        `${environment}: ${objects.length} objects valid against the Kubernetes ${SCHEMA_VERSION} schema; Trivy's Kubernetes checks: ${trivy.passed} passed, 0 failed${aside}; ${RULES.length} policy rules pass`,
      );
    }
  }
  if (failed) fail(`${failed} problem${failed === 1 ? '' : 's'}`, 1);
}

if (isMain(import.meta.url)) runMain(() => main(process.argv.slice(2)), 'k8s-check');
