'use strict';
// `npx nx sync` (registered in nx.json sync.globalGenerators; `npx nx sync:check` in the test command): writes every
// file derived from the service catalogue (apps/<service>/project.json metadata, see catalogue.js) from the
// templates in files/ (files/service once per service, files/workspace once):
//   apps/<service>/compose.yaml (compose-file.js) and the root compose.yaml's include list
//   deploy/k8s/base/<service>/ (Deployment, Service, ServiceAccount, PodDisruptionBudget, NetworkPolicy with ingress
//   from its callers and egress to its callees, kustomization) and deploy/k8s/base/kustomization.yaml
//   deploy/k8s/overlays/dev/kustomization.yaml (secretGenerator) and dev-secrets/<service>-api-key copies
//   deploy/k8s/overlays/production/images/kustomization.yaml: one entry per service (an all-zero placeholder digest
//   for a new one; the digests themselves come from the publish workflow's k8s-images artifact and are kept)
// Files of services that no longer exist are removed. Everything else (deploy/k8s/components, namespace, the
// production overlay's patches, dev-secrets/README.md) is written by hand and never touched.
const path = require('node:path');
const { formatFiles, generateFiles } = require('@nx/devkit');
const { parseDocument } = require('yaml');
const { COMPOSE_PROJECT, IMAGE_PREFIX, K8S_PART_OF, LOCAL_TAG } = require('../../../../lib/defaults.cjs');
const { readCatalogue, CatalogueError } = require('../../catalogue');
const { composeFile } = require('../../compose-file');
const { GENERATED } = require('./header');

const FILES = path.join(__dirname, 'files');
const BASES = 'deploy/k8s/base';
const DEV_SECRETS = 'deploy/k8s/overlays/dev/dev-secrets';
const IMAGES = 'deploy/k8s/overlays/production/images/kustomization.yaml';
const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;
// Where new services' production images live until the k8s-images artifact replaces the file (the registry of the
// first committed entry is used when there is one).
const DEFAULT_REGISTRY = 'ghcr.io/OWNER/REPOSITORY';

class SyncInputError extends Error {}
const fail = (message) => {
  throw new SyncInputError(`nx sync: ${message}`);
};

const header = (source) => GENERATED.map((line) => `# ${line.replace('<source>', source)}`).join('\n');
const isGenerated = (text) => text.includes(GENERATED[0].split('<source>')[0].trim());

/** The dev overlay's copy of each key: kustomize reads no file outside the overlay. */
function copyDevKeys(tree, services) {
  for (const s of services) {
    tree.write(`${DEV_SECRETS}/${s.name}-api-key`, tree.read(`${s.root}/dev-secrets/api-key`));
  }
  const wanted = new Set(services.map((s) => `${s.name}-api-key`));
  if (tree.exists(DEV_SECRETS))
    for (const file of tree.children(DEV_SECRETS)) if (file.endsWith('-api-key') && !wanted.has(file)) tree.delete(`${DEV_SECRETS}/${file}`);
}

/** Bases of removed services: only the generated files go (a hand-written file there stays, and so does its directory). */
function removeStaleBases(tree, services) {
  if (!tree.exists(BASES)) return;
  const names = new Set(services.map((s) => s.name));
  for (const dir of tree.children(BASES)) {
    if (names.has(dir) || tree.isFile(`${BASES}/${dir}`)) continue;
    for (const file of tree.children(`${BASES}/${dir}`)) {
      const at = `${BASES}/${dir}/${file}`;
      if (tree.isFile(at) && isGenerated(tree.read(at, 'utf-8'))) tree.delete(at);
    }
  }
}

/** The production image list, parsed; one line when it is missing or broken (the only input the sync edits). */
function productionImages(tree) {
  if (!tree.exists(IMAGES)) fail(`${IMAGES} not found: run at the workspace root`);
  const doc = parseDocument(tree.read(IMAGES, 'utf-8'));
  if (doc.errors.length) fail(`${IMAGES} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  if (!Array.isArray(doc.get('images')?.items)) fail(`${IMAGES}: no images: list`);
  return doc;
}

/**
 * The production image list: one entry per service, in catalogue order. Existing entries (digests the publish
 * workflow wrote) are kept as they are, comments too; only missing services are added and removed ones dropped.
 */
function syncProductionImages(tree, services) {
  const doc = productionImages(tree);
  const entries = doc.get('images');
  const name = (service) => `${IMAGE_PREFIX}/${service.name}`;
  const current = entries.items.map((item) => item.get?.('name'));
  const wanted = services.map(name);
  if (current.length === wanted.length && wanted.every((n) => current.includes(n))) return;
  const first = entries.items[0]?.get?.('newName');
  const registry = typeof first === 'string' ? path.posix.dirname(first) : DEFAULT_REGISTRY;
  entries.items = entries.items.filter((item) => wanted.includes(item.get?.('name')));
  for (const service of services) {
    if (current.includes(name(service))) continue;
    entries.items.push(doc.createNode({ name: name(service), newName: `${registry}/${service.name}`, digest: PLACEHOLDER_DIGEST }));
  }
  tree.write(IMAGES, doc.toString({ lineWidth: 0 }));
}

/** The catalogue and the inputs the sync reads besides it, checked before anything is written (SyncInputError). */
function checkSyncInputs(tree) {
  let services;
  try {
    services = readCatalogue(tree);
  } catch (error) {
    if (error instanceof CatalogueError) fail(error.message);
    throw error;
  }
  if (!services.length) fail('no service: no apps/<name>/project.json tagged type:service');
  for (const s of services) {
    const key = `${s.root}/dev-secrets/api-key`;
    if (!tree.exists(key)) fail(`${key} not found: every service needs its development key (the service generator writes one)`);
  }
  productionImages(tree);
  return services;
}

/** Writes every derived file on `tree`; the service generator calls it on its own Tree after writing apps/<name>. */
async function syncDerivedFiles(tree) {
  const services = checkSyncInputs(tree);
  const byName = Object.fromEntries(services.map((s) => [s.name, s]));
  const shared = { imagePrefix: IMAGE_PREFIX, localTag: LOCAL_TAG, partOf: K8S_PART_OF, composeProject: COMPOSE_PROJECT, tmpl: '' };
  for (const s of services) {
    const callees = s.calls.map((c) => byName[c]);
    generateFiles(tree, path.join(FILES, 'service'), '.', {
      ...shared,
      ...s,
      callees,
      image: `${IMAGE_PREFIX}/${s.name}:${LOCAL_TAG}`,
      header: header(`${s.root}/project.json`),
    });
    tree.write(`${s.root}/compose.yaml`, composeFile(s, callees, header(`${s.root}/project.json`)));
  }
  generateFiles(tree, path.join(FILES, 'workspace'), '.', { ...shared, services, header: header('apps/*/project.json') });
  copyDevKeys(tree, services);
  removeStaleBases(tree, services);
  syncProductionImages(tree, services);
  // the repository's prettier style, so the format check of the test command agrees with what was written
  await formatFiles(tree);
  return services;
}

/** The sync generator: Nx compares what it wrote with the disk; `nx sync:check` prints outOfSyncMessage. */
async function syncGenerator(tree) {
  await syncDerivedFiles(tree);
  const changed = tree.listChanges().map((change) => change.path);
  if (!changed.length) return {};
  return {
    outOfSyncMessage: `derived from apps/*/project.json but stale: ${changed.join(', ')}. Run: npx nx sync`,
    outOfSyncDetails: changed,
  };
}

module.exports = syncGenerator;
module.exports.default = syncGenerator;
module.exports.syncDerivedFiles = syncDerivedFiles;
module.exports.checkSyncInputs = checkSyncInputs;
module.exports.SyncInputError = SyncInputError;
