// The service generator on a throwaway copy of this workspace (workspace-tree.mjs): what it writes under apps/<name>,
// that everything else comes from the sync (derived files only, existing files edited by nothing else), and that
// every bad input is one line and writes nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { committed, seededTree, WORKSPACE, SEED } from './workspace-tree.mjs';

const require = createRequire(import.meta.url);
const generator = require('../src/generators/service/generator.js');
const { listServices, serviceFactsOf } = require('../src/service-facts.js');

const K8S_FILES = ['deployment.yaml', 'service.yaml', 'serviceaccount.yaml', 'poddisruptionbudget.yaml', 'networkpolicy.yaml', 'kustomization.yaml'];
const DNS_RULE = {
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};
const from = (name, port) => ({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': name } } }], ports: [{ protocol: 'TCP', port }] });

const yamlOf = (tree, file) => parseYaml(tree.read(file, 'utf-8'));
const json = (tree, file) => JSON.parse(tree.read(file, 'utf-8'));
const existingPorts = SEED.filter((f) => /^apps\/[^/]+\/project\.json$/.test(f)).map(
  (f) => JSON.parse(readFileSync(path.join(WORKSPACE, f), 'utf8')).metadata?.port ?? 0,
);
// The services, their ports and callers as the workspace declares them (any number of services, e.g. after the
// generator e2e or a team's own): nothing below assumes the template's three.
const SERVICES = listServices(WORKSPACE);
/** The first port from `start` that no service uses. */
const freePort = (start) => {
  let port = start;
  while (existingPorts.includes(port)) port++;
  return port;
};
const PORT = freePort(3050);
const OTHER_PORT = freePort(3999);
const envName = (name) => name.toUpperCase().replace(/-/g, '_');
// A service that nobody calls yet (its NetworkPolicy has no ingress rule) and that calls nothing (egress only to DNS):
// the first callee of a new caller.
const LEAF = SERVICES.find((s) => !s.calls.length && !SERVICES.some((other) => other.calls.includes(s.name)));

test('a fastify service: app, tests, README, project files like its siblings, its compose file, the root include, dev secret', async () => {
  const tree = seededTree();
  await generator(tree, { name: 'billing', framework: 'fastify' });
  const port = Math.max(...existingPorts) + 1;
  for (const file of [
    'src/main.ts',
    'src/app.ts',
    'src/config.ts',
    'src/items.ts',
    'src/app.spec.ts',
    'README.md',
    'package.json',
    'project.json',
    'jest.config.cjs',
    'tsconfig.app.json',
    'tsconfig.spec.json',
    'compose.yaml',
    'dev-secrets/api-key',
    'dev-secrets/README.md',
  ]) {
    assert.ok(tree.exists(`apps/billing/${file}`), file);
  }
  assert.equal(tree.exists('apps/billing/src/downstream.ts'), false, 'no downstream client without --calls');
  const projectText = tree.read('apps/billing/project.json', 'utf-8');
  assert.ok(projectText.trimEnd().split('\n').length <= 30);
  assert.deepEqual(serviceFactsOf(JSON.parse(projectText), 'x'), { name: 'billing', framework: 'fastify', port, calls: [] });
  assert.match(tree.read('apps/billing/src/app.ts', 'utf-8'), /createFastifyService/);
  assert.doesNotMatch(tree.read('apps/billing/src/app.ts', 'utf-8'), /express/i);
  assert.match(tree.read('apps/billing/src/config.ts', 'utf-8'), /defaultPort: project\.metadata\.port/, 'the port is not repeated in the code');
  assert.equal(json(tree, 'apps/billing/package.json').name, 'billing');
  assert.match(tree.read('apps/billing/dev-secrets/api-key', 'utf-8'), /^dev-only-billing-api-key-NOT-A-REAL-SECRET\n$/);
  assert.match(tree.read('apps/billing/dev-secrets/README.md', 'utf-8'), /DEVELOPMENT-ONLY/);

  const entry = yamlOf(tree, 'apps/billing/compose.yaml');
  assert.deepEqual(Object.keys(entry.services), ['billing']);
  assert.equal(entry.include, undefined, 'calls nothing: includes nothing');
  const definition = entry.services.billing;
  assert.deepEqual(definition.extends, { file: '../../docker/compose/hardening.yaml', service: 'hardened' });
  assert.equal(definition.image, '${IMAGE_PREFIX:-secure-ci}/billing:${IMAGE_TAG:-local}');
  assert.deepEqual(definition.environment, { API_KEY_FILE: '/run/secrets/billing_api_key' });
  assert.deepEqual(definition.secrets, ['billing_api_key']);
  assert.deepEqual(definition.ports, [`127.0.0.1:\${BILLING_PORT:-${port}}:${port}`]);
  assert.equal(definition.depends_on, undefined);
  assert.deepEqual(entry.secrets, { billing_api_key: { file: '${BILLING_API_KEY_FILE:-./dev-secrets/api-key}' } });

  // the root stack includes it (the sync's list: every service by name)
  const root = yamlOf(tree, 'compose.yaml');
  assert.deepEqual(root.include, [...yamlOf(seededTree(), 'compose.yaml').include, 'apps/billing/compose.yaml'].sort());
  assert.equal(root.services, undefined, 'the root file only includes');
});

test('a service gets its Kubernetes base, the bases entry, the dev key and Secret, and a placeholder production digest', async () => {
  const tree = seededTree();
  await generator(tree, { name: 'billing', framework: 'fastify', port: PORT });
  for (const file of K8S_FILES)
    assert.match(tree.read(`deploy/k8s/base/billing/${file}`, 'utf-8'), /^# GENERATED by `npx nx sync` from apps\/billing\/project\.json/, file);
  const base = yamlOf(tree, 'deploy/k8s/base/billing/kustomization.yaml');
  assert.deepEqual(base.resources.sort(), K8S_FILES.filter((f) => f !== 'kustomization.yaml').sort());
  assert.deepEqual(base.components, ['../../components/hardened']);

  // YAML 1.1 as Kubernetes reads it (0440 is octal there, as in the siblings)
  const deployment = parseYaml(tree.read('deploy/k8s/base/billing/deployment.yaml', 'utf-8'), { version: '1.1' });
  assert.equal(deployment.metadata.name, 'billing');
  assert.deepEqual(deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'billing' });
  assert.equal(deployment.spec.template.spec.serviceAccountName, 'billing');
  const [app] = deployment.spec.template.spec.containers;
  assert.equal(app.name, 'app', 'the container components/hardened patches');
  assert.equal(app.image, 'secure-ci/billing:local');
  assert.deepEqual(app.ports, [{ name: 'http', containerPort: PORT, protocol: 'TCP' }]);
  assert.deepEqual(app.env, [
    { name: 'PORT', value: String(PORT) },
    { name: 'API_KEY_FILE', value: '/run/secrets/billing/api-key' },
  ]);
  assert.deepEqual(app.volumeMounts, [{ name: 'api-key', mountPath: '/run/secrets/billing', readOnly: true }]);
  assert.deepEqual(deployment.spec.template.spec.volumes, [
    { name: 'api-key', secret: { secretName: 'billing-api-key', defaultMode: 0o440, items: [{ key: 'api-key', path: 'api-key' }] } },
  ]);
  assert.deepEqual(yamlOf(tree, 'deploy/k8s/base/billing/service.yaml').spec.ports, [{ name: 'http', protocol: 'TCP', port: PORT, targetPort: 'http' }]);
  assert.equal(yamlOf(tree, 'deploy/k8s/base/billing/serviceaccount.yaml').automountServiceAccountToken, false);
  assert.equal(yamlOf(tree, 'deploy/k8s/base/billing/poddisruptionbudget.yaml').spec.maxUnavailable, 1);
  const policy = yamlOf(tree, 'deploy/k8s/base/billing/networkpolicy.yaml');
  assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(policy.spec.ingress, undefined, 'no caller yet');
  assert.deepEqual(policy.spec.egress, [DNS_RULE], 'it calls nothing');

  assert.ok(yamlOf(tree, 'deploy/k8s/base/kustomization.yaml').resources.includes('billing'));
  assert.deepEqual(
    yamlOf(tree, 'deploy/k8s/overlays/dev/kustomization.yaml').secretGenerator.find((g) => g.name === 'billing-api-key'),
    { name: 'billing-api-key', files: ['api-key=dev-secrets/billing-api-key'] },
  );
  // the production list keeps every committed entry as it was (the publish workflow's digests) and appends a placeholder
  const images = 'deploy/k8s/overlays/production/images/kustomization.yaml';
  const registry = path.posix.dirname(yamlOf(tree, images).images[0].newName);
  assert.equal(
    tree.read(images, 'utf-8'),
    `${committed(images).trimEnd()}\n  - name: secure-ci/billing\n    newName: ${registry}/billing\n    digest: sha256:${'0'.repeat(64)}\n`,
  );
  assert.deepEqual(
    tree.read('deploy/k8s/overlays/dev/dev-secrets/billing-api-key'),
    tree.read('apps/billing/dev-secrets/api-key'),
    'the same bytes as the app',
  );
});

test('it edits no existing file itself: what changes besides apps/<name> is what the sync derives (and nothing without --calls)', async () => {
  const tree = seededTree();
  await generator(tree, { name: 'billing', framework: 'fastify', port: PORT });
  const edited = tree
    .listChanges()
    .filter((c) => c.type === 'UPDATE')
    .map((c) => c.path)
    .sort();
  assert.deepEqual(edited, [
    'compose.yaml',
    'deploy/k8s/base/kustomization.yaml',
    'deploy/k8s/overlays/dev/kustomization.yaml',
    'deploy/k8s/overlays/production/images/kustomization.yaml',
  ]);
  for (const file of edited.slice(0, 3)) assert.match(tree.read(file, 'utf-8'), /^# GENERATED by `npx nx sync`/, file);
});

test("--calls: the caller's env, key volume and egress to the callee; the callee's NetworkPolicy admits it (from the sync)", async () => {
  const tree = seededTree();
  assert.ok(LEAF, 'some service calls nothing and has no caller yet');
  const leaf = LEAF.name;
  await generator(tree, { name: 'shipping-desk', framework: 'express', port: OTHER_PORT, calls: leaf });
  const leafPort = LEAF.port;
  const [app] = yamlOf(tree, 'deploy/k8s/base/shipping-desk/deployment.yaml').spec.template.spec.containers;
  assert.deepEqual(
    app.env.map((e) => `${e.name}=${e.value}`),
    [
      `PORT=${OTHER_PORT}`,
      'API_KEY_FILE=/run/secrets/shipping-desk/api-key',
      `${envName(leaf)}_URL=http://${leaf}:${leafPort}`,
      `${envName(leaf)}_API_KEY_FILE=/run/secrets/${leaf}/api-key`,
      `${envName(leaf)}_TIMEOUT_MS=2000`,
    ],
  );
  assert.deepEqual(
    app.volumeMounts.map((m) => `${m.name} ${m.mountPath}`),
    ['api-key /run/secrets/shipping-desk', `${leaf}-api-key /run/secrets/${leaf}`],
  );
  const egress = yamlOf(tree, 'deploy/k8s/base/shipping-desk/networkpolicy.yaml').spec.egress;
  assert.deepEqual(egress, [
    { to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': leaf } } }], ports: [{ protocol: 'TCP', port: leafPort }] },
    DNS_RULE,
  ]);
  const callee = yamlOf(tree, `deploy/k8s/base/${leaf}/networkpolicy.yaml`);
  assert.deepEqual(Object.keys(callee.spec), ['podSelector', 'policyTypes', 'ingress', 'egress']);
  assert.deepEqual(callee.spec.ingress, [from('shipping-desk', leafPort)]);
  assert.deepEqual(callee.spec.egress, parseYaml(committed(`deploy/k8s/base/${leaf}/networkpolicy.yaml`)).spec.egress);
  assert.match(tree.read(`deploy/k8s/base/${leaf}/kustomization.yaml`, 'utf-8'), /called by shipping-desk; calls nothing\./);
});

test('twelve callers of one service: one ingress rule each, the header comments stay bounded', async () => {
  const tree = seededTree();
  const file = 'deploy/k8s/base/catalog/networkpolicy.yaml';
  const before = parseYaml(committed(file)).spec.ingress.length;
  for (let i = 1; i <= 12; i++)
    await generator(tree, { name: `caller-${i}`, framework: i % 2 ? 'fastify' : 'express', port: freePort(4000 + i * 7), calls: 'catalog' });
  const text = tree.read(file, 'utf-8');
  assert.equal(parseYaml(text).spec.ingress.length, before + 12, 'one rule per caller');
  for (const line of text.split('\n').filter((l) => l.startsWith('#'))) assert.ok(line.length <= 160, line);
});

test('an express service that calls orders: URL, key file and depends_on healthy; its compose file includes orders (and so catalog)', async () => {
  const tree = seededTree();
  await generator(tree, { name: 'shipping-desk', framework: 'express', port: OTHER_PORT, calls: 'orders' });
  assert.match(tree.read('apps/shipping-desk/src/app.ts', 'utf-8'), /createExpressService/);
  assert.match(tree.read('apps/shipping-desk/src/app.ts', 'utf-8'), /orders:responseTime/);
  assert.match(tree.read('apps/shipping-desk/src/config.ts', 'utf-8'), /ORDERS_URL: env\.url\(\)/);
  assert.ok(tree.exists('apps/shipping-desk/src/downstream.ts'));
  assert.deepEqual(json(tree, 'apps/shipping-desk/project.json').metadata, { port: OTHER_PORT, calls: ['orders'] });
  const orders = JSON.parse(readFileSync(path.join(WORKSPACE, 'apps/orders/project.json'), 'utf8'));

  const entry = yamlOf(tree, 'apps/shipping-desk/compose.yaml');
  assert.deepEqual(entry.include, ['../orders/compose.yaml'], "orders' own file brings orders and what it calls");
  assert.deepEqual(Object.keys(entry.services), ['shipping-desk']);
  const definition = entry.services['shipping-desk'];
  assert.equal(definition.environment.ORDERS_URL, `http://orders:${orders.metadata.port}`);
  assert.equal(definition.environment.ORDERS_API_KEY_FILE, '/run/secrets/orders_api_key');
  assert.deepEqual(definition.secrets, ['shipping-desk_api_key', 'orders_api_key']);
  assert.deepEqual(definition.ports, [`127.0.0.1:\${SHIPPING_DESK_PORT:-${OTHER_PORT}}:${OTHER_PORT}`]);
  assert.deepEqual(definition.depends_on, { orders: { condition: 'service_healthy' } });
  assert.deepEqual(Object.keys(entry.secrets), ['shipping-desk_api_key'], "the callee's key comes with its included file");
});

test('bad input: one line naming the problem, and nothing written', async () => {
  const cases = [
    [{ name: 'catalog', framework: 'fastify' }, /a project named "catalog" \(or apps\/catalog\) already exists/],
    [{ name: 'service-kit', framework: 'fastify' }, /a project named "service-kit"/],
    [{ name: 'Billing', framework: 'fastify' }, /invalid name "Billing"/],
    [{ name: '1billing', framework: 'fastify' }, /invalid name "1billing"/],
    [{ name: 'bill--ing', framework: 'fastify' }, /invalid name/],
    [{ name: 'bill_ing', framework: 'fastify' }, /invalid name/],
    [{ name: '../evil', framework: 'fastify' }, /invalid name/],
    [{ name: 'x'.repeat(41), framework: 'fastify' }, /at most 40 characters/],
    [{ name: 'billing', framework: 'koa' }, /unknown framework "koa": use fastify or express/],
    [{ name: 'billing', framework: 'toString' }, /unknown framework "toString"/],
    [{ name: 'billing' }, /unknown framework ""/],
    [{ name: 'billing', framework: 'express', port: existingPorts[0] }, new RegExp(`port ${existingPorts[0]} is already used by service`)],
    [{ name: 'billing', framework: 'express', port: 80 }, /invalid port "80"/],
    [{ name: 'billing', framework: 'express', port: 'abc' }, /invalid port "abc"/],
    [{ name: 'billing', framework: 'express', port: 3100.5 }, /invalid port/],
    [{ name: 'billing', framework: 'express', calls: 'nope' }, /--calls "nope" is not a service \(known: catalog, /],
    [{ name: 'billing', framework: 'express', calls: 'service-kit' }, /--calls "service-kit" is not a service/],
    [
      { name: 'billing', framework: 'fastify' },
      /^service generator: nx sync: apps\/orders\/project\.json: metadata\.calls names "nope"/,
      (t) => t.write('apps/orders/project.json', committed('apps/orders/project.json').replace(/"calls": \[[^\]]*\]/, '"calls": ["nope"]')),
    ],
    [
      { name: 'billing', framework: 'fastify' },
      /deploy\/k8s\/overlays\/production\/images\/kustomization\.yaml not found/,
      (t) => t.delete('deploy/k8s/overlays/production/images/kustomization.yaml'),
    ],
    [
      { name: 'billing', framework: 'fastify' },
      /images\/kustomization\.yaml: no images: list/,
      (t) => t.write('deploy/k8s/overlays/production/images/kustomization.yaml', 'kind: Component\n'),
    ],
  ];
  for (const [options, message, spoil] of cases) {
    const tree = seededTree();
    spoil?.(tree);
    const before = tree.listChanges().length;
    await assert.rejects(
      generator(tree, options),
      (error) => {
        assert.ok(error instanceof generator.GeneratorInputError, `${JSON.stringify(options)}: ${error.stack}`);
        assert.match(error.message, /^service generator: /);
        assert.match(error.message, message);
        assert.equal(error.message.split('\n').length, 1);
        return true;
      },
      JSON.stringify(options),
    );
    assert.equal(tree.listChanges().length, before, `${JSON.stringify(options)} wrote nothing`);
  }
});
