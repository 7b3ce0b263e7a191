// Offline validation of rendered objects against the Kubernetes API's OpenAPI schema, with the models generated from
// it by kubernetes-models (each model's validate() runs the schema compiled with ajv). kubernetes-models 4.5.1 is
// generated from Kubernetes v1.33.0 (its changelog: "Update schema version to v1.33.0").
// Like the API schema itself, it allows unknown fields; a misspelled security field still fails the policy
// (rules.mjs), because the field the rule reads is then missing.
export const SCHEMA_VERSION = 'v1.33.0';
/** The kubernetes-models release SCHEMA_VERSION is true for (deploy/k8s/test checks the installed one). */
export const MODELS_VERSION = '4.5.1';

/** kubernetes-models' module for an apiVersion and kind: `v1` + `Service` → kubernetes-models/v1/Service. */
function modulePath(apiVersion, kind) {
  if (!/^([a-z0-9.-]+\/)?v\d+[a-z0-9]*$/.test(apiVersion ?? '') || !/^[A-Z][A-Za-z0-9]*$/.test(kind ?? '')) return null;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

// The `format: byte` maps of the core API. The API server decodes their values with Go's base64 decoder, which skips
// line breaks, and Kustomize's generators write a value longer than 70 characters over several lines (a development
// Secret does from a 17-character service name on). kubernetes-models' byte check allows no line break, so those values
// are given to it as the API server reads them; any other character outside base64 still fails.
const BYTE_MAPS = { Secret: 'data', ConfigMap: 'binaryData' };

/** `object` with its byte values as the API server decodes them (line breaks dropped); other objects as they are. */
function asTheApiServerReads(object) {
  const field = object?.apiVersion === 'v1' ? BYTE_MAPS[object.kind] : undefined;
  const values = field ? object[field] : undefined;
  if (!values || typeof values !== 'object') return object;
  const unwrapped = Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === 'string' ? value.replace(/[\r\n]/g, '') : value]));
  return { ...object, [field]: unwrapped };
}

/** One line per invalid object: "<Kind>/<name>: <schema message>". An empty list means every object is valid. */
export async function validateObjects(objects) {
  const problems = [];
  for (const object of objects) {
    const where = `${object?.kind ?? '?'}/${object?.metadata?.name ?? '?'}`;
    const modulePathFor = modulePath(object?.apiVersion, object?.kind);
    let Model;
    try {
      if (!modulePathFor) throw new Error('bad apiVersion/kind');
      Model = (await import(modulePathFor))[object.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${where}: ${object?.apiVersion}/${object?.kind} is not a Kubernetes ${SCHEMA_VERSION} API type`);
      continue;
    }
    try {
      new Model(asTheApiServerReads(object)).validate();
    } catch (error) {
      problems.push(`${where}: ${String(error.message).split('\n')[0]}`);
    }
  }
  return problems;
}
