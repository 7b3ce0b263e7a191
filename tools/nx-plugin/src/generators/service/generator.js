'use strict';
// `nx g @secure-ci/nx-plugin:service <name> --framework fastify|express [--port N] [--calls <service>]`: a new service
// that lint, test, build, docker-build, the image tests, the matrix and the compose stack pick up with no further
// edit. Every input is checked before anything is written; a bad one is one line and the tree stays untouched.
const path = require('node:path');
const { formatFiles, generateFiles, joinPathFragments } = require('@nx/devkit');
const { parseDocument } = require('yaml');
const { FRAMEWORKS } = require('../../conventions');
const { serviceFactsOf } = require('../../service-facts');
const { composeFile } = require('../../compose-file');
const { IMAGE_PREFIX } = require('../../../../lib/defaults.cjs');

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 40;
const FIRST_PORT = 3001;
const ROOT_COMPOSE = 'compose.yaml';
const K8S = {
  bases: 'deploy/k8s/base/kustomization.yaml',
  dev: 'deploy/k8s/overlays/dev/kustomization.yaml',
  images: 'deploy/k8s/overlays/production/images/kustomization.yaml',
  base: (service) => `deploy/k8s/base/${service}`,
  policy: (service) => `deploy/k8s/base/${service}/networkpolicy.yaml`,
  devKey: (service) => `deploy/k8s/overlays/dev/dev-secrets/${service}-api-key`,
};
const NAME_LABEL = 'app.kubernetes.io/name';
const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;

class GeneratorInputError extends Error {}
const fail = (message) => {
  throw new GeneratorInputError(`service generator: ${message}`);
};

const VAR = (name) => name.toUpperCase().replace(/-/g, '_');

/** The services already in the tree (apps/<dir>/project.json tagged type:service). */
function servicesIn(tree) {
  if (!tree.exists('apps')) return [];
  return tree
    .children('apps')
    .filter((dir) => tree.exists(`apps/${dir}/project.json`))
    .map((dir) => serviceFactsOf(JSON.parse(tree.read(`apps/${dir}/project.json`, 'utf-8')), `apps/${dir}/project.json`))
    .filter(Boolean);
}

/** Every project name in the tree, from project.json files (the generator must not reuse one). */
function projectNames(tree) {
  const names = new Set();
  for (const dir of ['apps', 'libs', 'docker', 'tools']) {
    if (!tree.exists(dir)) continue;
    for (const child of tree.children(dir)) {
      const file = `${dir}/${child}/project.json`;
      if (tree.exists(file)) names.add(JSON.parse(tree.read(file, 'utf-8')).name);
    }
  }
  return names;
}

/** Checks and completes the options; throws one line for the first problem. */
function normalize(tree, options) {
  const name = options.name;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > MAX_NAME) {
    fail(`invalid name "${name ?? ''}": lower-case letters and digits, words joined by single dashes, starting with a letter, at most ${MAX_NAME} characters`);
  }
  const services = servicesIn(tree);
  if (tree.exists(`apps/${name}`) || projectNames(tree).has(name)) fail(`a project named "${name}" (or apps/${name}) already exists`);
  if (!Object.hasOwn(FRAMEWORKS, options.framework ?? '')) fail(`unknown framework "${options.framework ?? ''}": use ${Object.keys(FRAMEWORKS).join(' or ')}`);
  const port = options.port === undefined ? Math.max(FIRST_PORT - 1, ...services.map((s) => s.port)) + 1 : Number(options.port);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) fail(`invalid port "${options.port}": an integer 1024-65535`);
  const taken = services.find((s) => s.port === port);
  if (taken) fail(`port ${port} is already used by service "${taken.name}"`);
  let callee = null;
  if (options.calls !== undefined) {
    const target = services.find((s) => s.name === options.calls);
    if (!target) fail(`--calls "${options.calls}" is not a service (known: ${services.map((s) => s.name).join(', ') || 'none'})`);
    callee = { ...target, VAR: VAR(target.name) };
  }
  const required = [ROOT_COMPOSE, K8S.bases, K8S.dev, K8S.images, ...(callee ? [K8S.policy(callee.name)] : [])];
  for (const file of required) if (!tree.exists(file)) fail(`${file} not found: run the generator at the workspace root`);
  // Every file it edits must parse, so a broken one is one line before anything is written.
  for (const file of required) {
    const doc = parseDocument(tree.read(file, 'utf-8'));
    if (doc.errors.length) fail(`${file} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  }
  if (tree.exists(K8S.base(name)) || tree.exists(K8S.devKey(name))) fail(`${K8S.base(name)} or ${K8S.devKey(name)} already exists`);
  const images = parseDocument(tree.read(K8S.images, 'utf-8')).toJS()?.images;
  if (!Array.isArray(images) || !images.length || typeof images[0]?.newName !== 'string') fail(`${K8S.images}: no images entry to derive the registry from`);
  if (callee) {
    const policy = parseDocument(tree.read(K8S.policy(callee.name), 'utf-8')).toJS();
    if (policy?.kind !== 'NetworkPolicy' || policy.metadata?.name !== callee.name) fail(`${K8S.policy(callee.name)} is not the NetworkPolicy ${callee.name}`);
  }
  return { name, framework: options.framework, port, callee, VAR: VAR(name) };
}

/** compose.yaml at the root: one more `include:` of the new service's own compose file. */
function addRootInclude(tree, o) {
  editYaml(tree, ROOT_COMPOSE, (doc) => append(doc, 'include', `apps/${o.name}/compose.yaml`));
}

/** A YAML sequence in a document (created when absent) with one more item, comments and layout kept. */
function append(doc, key, value) {
  if (!doc.has(key)) doc.set(key, doc.createNode([]));
  doc.get(key).add(doc.createNode(value));
}

function editYaml(tree, file, edit) {
  const doc = parseDocument(tree.read(file, 'utf-8'));
  edit(doc);
  tree.write(file, doc.toString({ lineWidth: 0 }));
}

// Callers named in a header comment; beyond this many only their number, so the comment stays one bounded line
// however many services call one (the rules themselves name every caller).
const NAMED_CALLERS = 3;

/** The one-paragraph header of a service's NetworkPolicy, from what the policy admits (rewritten when a caller is added). */
function policyHeader(name, callers, callees) {
  const egress = callees.length
    ? `egress only to its callee${callees.length > 1 ? 's' : ''} (${callees.join(', ')}) on their ports, and DNS`
    : 'egress only to DNS';
  const ingress =
    callers.length > NAMED_CALLERS
      ? `its ${callers.length} declared callers (one rule each below)`
      : `its declared caller${callers.length > 1 ? 's' : ''} (${callers.join(', ')})`;
  return ` ${name}: ingress only from ${ingress} on its port; ${egress}.`;
}

/** A base's one-line summary with one more caller: named up to NAMED_CALLERS, then counted. */
function withCaller(summary, caller) {
  const counted = /; called by (\d+) services \(see networkpolicy\.yaml\)\.$/.exec(summary);
  if (counted) return summary.replace(counted[0], `; called by ${Number(counted[1]) + 1} services (see networkpolicy.yaml).`);
  const listed = /; called by ([^.;]+)\.$/.exec(summary);
  if (!listed) return summary.replace(/\.?$/, `; called by ${caller}.`);
  const names = [...listed[1].split(', '), caller];
  return summary.replace(
    listed[0],
    names.length > NAMED_CALLERS ? `; called by ${names.length} services (see networkpolicy.yaml).` : `; called by ${names.join(', ')}.`,
  );
}

/**
 * Kubernetes: the base from the templates (as a sibling has it), listed in the bases; the dev key (a copy of the
 * generated apps/<name>/dev-secrets/api-key, kustomize reads nothing outside the overlay) and its secretGenerator
 * entry; a placeholder production digest; and with --calls the callee's NetworkPolicy admitting the new caller.
 */
function addKubernetes(tree, o, vars) {
  generateFiles(tree, path.join(__dirname, 'files', 'k8s'), K8S.base(o.name), vars);
  editYaml(tree, K8S.bases, (doc) => append(doc, 'resources', o.name));
  tree.write(K8S.devKey(o.name), tree.read(`apps/${o.name}/dev-secrets/api-key`));
  editYaml(tree, K8S.dev, (doc) => append(doc, 'secretGenerator', { name: `${o.name}-api-key`, files: [`api-key=dev-secrets/${o.name}-api-key`] }));
  editYaml(tree, K8S.images, (doc) => {
    const registry = path.posix.dirname(doc.toJS().images[0].newName);
    append(doc, 'images', { name: `${IMAGE_PREFIX}/${o.name}`, newName: `${registry}/${o.name}`, digest: PLACEHOLDER_DIGEST });
  });
  if (o.callee) {
    // the callee base's one-line summary says who calls it
    if (tree.exists(`${K8S.base(o.callee.name)}/kustomization.yaml`)) {
      editYaml(tree, `${K8S.base(o.callee.name)}/kustomization.yaml`, (doc) => {
        const holder = [doc, doc.contents, doc.contents?.items?.[0]?.key].find((node) => node?.commentBefore);
        if (!holder) return;
        const [first, ...rest] = holder.commentBefore.split('\n');
        holder.commentBefore = [withCaller(first, o.name), ...rest].join('\n');
      });
    }
    editYaml(tree, K8S.policy(o.callee.name), (doc) => {
      const rule = { from: [{ podSelector: { matchLabels: { [NAME_LABEL]: o.name } } }], ports: [{ protocol: 'TCP', port: o.callee.port }] };
      const spec = doc.get('spec');
      if (spec.has('ingress')) spec.get('ingress').add(doc.createNode(rule));
      else {
        // before egress, where the siblings have it
        const node = doc.createNode({ ingress: [rule] }).items[0];
        const at = spec.items.findIndex((pair) => pair.key?.value === 'egress');
        spec.items.splice(at < 0 ? spec.items.length : at, 0, node);
      }
      const policy = doc.toJS();
      const peers = (rules, side) =>
        (rules ?? []).flatMap((r) =>
          (r[side] ?? [])
            .filter((peer) => !peer.namespaceSelector)
            .map((peer) => peer.podSelector?.matchLabels?.[NAME_LABEL])
            .filter(Boolean),
        );
      // the header names the callers: rewritten where it is (the document's or its first node's comment)
      const holder = [doc, doc.contents, doc.contents.items[0]?.key].find((node) => node?.commentBefore) ?? doc;
      holder.commentBefore = policyHeader(o.callee.name, [...new Set(peers(policy.spec.ingress, 'from'))], [...new Set(peers(policy.spec.egress, 'to'))]);
    });
  }
}

async function serviceGenerator(tree, options) {
  const o = normalize(tree, options);
  const vars = {
    ...o,
    title: o.name
      .split('-')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join(' '),
    tmpl: '',
  };
  const target = joinPathFragments('apps', o.name);
  generateFiles(tree, path.join(__dirname, 'files', 'common'), target, vars);
  generateFiles(tree, path.join(__dirname, 'files', o.framework), target, vars);
  if (o.callee) generateFiles(tree, path.join(__dirname, 'files', 'calls'), target, vars);
  tree.write(`${target}/compose.yaml`, composeFile(o, o.callee ? [o.callee] : []));
  addRootInclude(tree, o);
  addKubernetes(tree, o, vars);
  // what it wrote in the repository's prettier style, so the format check of the test command passes right away
  await formatFiles(tree);
  return () => {
    process.stdout.write(
      `service ${o.name} (${o.framework}, port ${o.port}${o.callee ? `, calls ${o.callee.name}` : ''}): npx nx run ${o.name}:docker-build, then npm start\n`,
    );
  };
}

module.exports = serviceGenerator;
module.exports.default = serviceGenerator;
module.exports.GeneratorInputError = GeneratorInputError;
