// Test support (not shipped): the rendered overlays, rendered once per test file, and helpers that pick objects
// out of a deep copy so each counter-example spoils exactly one thing.
import { checkOverlay, WORKSPACE } from '../check.mjs';
import { readFacts } from '../policy/facts.mjs';

export const facts = readFacts(WORKSPACE);

const rendered = {};
/** { objects, schemaProblems, policyProblems } of an overlay, rendered once. */
export async function overlay(environment) {
  rendered[environment] ??= await checkOverlay(environment, { facts });
  return rendered[environment];
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
