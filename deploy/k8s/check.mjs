#!/usr/bin/env node
// Static proof for the Kubernetes manifests (no cluster needed): renders each overlay with `kubectl kustomize`,
// validates every object against the Kubernetes API schema (policy/schema.mjs) and runs the policy
// (policy/rules.mjs) against the repository's facts (policy/facts.mjs). Run it before applying.
//
// Usage: node deploy/k8s/check.mjs [dev|production]...   (default: both)
// Exit 0 when everything passes; 1 with one line per problem; 2 for usage errors or an overlay that cannot be rendered
// (kubectl missing or too old, a broken kustomization).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail, isMain, runMain } from '../../tools/lib/cli.mjs';
import { readFacts } from './policy/facts.mjs';
import { render, RenderError } from './policy/render.mjs';
import { checkObjects, RULES } from './policy/rules.mjs';
import { SCHEMA_VERSION, validateObjects } from './policy/schema.mjs';

export const K8S_DIR = path.dirname(fileURLToPath(import.meta.url));
export const WORKSPACE = path.resolve(K8S_DIR, '../..');
export const ENVIRONMENTS = ['dev', 'production'];

/** Renders and checks one overlay: { objects, schemaProblems, policyProblems }. */
export async function checkOverlay(environment, { dir = path.join(K8S_DIR, 'overlays', environment), facts = readFacts(WORKSPACE), env = process.env } = {}) {
  const objects = render(dir, env);
  return { objects, schemaProblems: await validateObjects(objects), policyProblems: checkObjects(objects, facts, { environment }) };
}

async function main(argv) {
  const unknown = argv.filter((arg) => !ENVIRONMENTS.includes(arg));
  if (unknown.length) fail(`unknown overlay ${unknown[0]}; choose from ${ENVIRONMENTS.join(', ')}`);
  let failed = 0;
  for (const environment of argv.length ? argv : ENVIRONMENTS) {
    let result;
    try {
      result = await checkOverlay(environment);
    } catch (error) {
      if (error instanceof RenderError) fail(error.message);
      throw error;
    }
    const { objects, schemaProblems, policyProblems } = result;
    for (const problem of schemaProblems) console.log(`${environment}: schema: ${problem}`);
    for (const { rule, message } of policyProblems) console.log(`${environment}: ${rule}: ${message}`);
    failed += schemaProblems.length + policyProblems.length;
    if (!schemaProblems.length && !policyProblems.length)
      console.log(`${environment}: ${objects.length} objects valid against the Kubernetes ${SCHEMA_VERSION} schema; ${RULES.length} policy rules pass`);
  }
  if (failed) fail(`${failed} problem${failed === 1 ? '' : 's'}`, 1);
}

if (isMain(import.meta.url)) runMain(() => main(process.argv.slice(2)), 'k8s-check');
