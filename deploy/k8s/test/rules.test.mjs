// Every rule of the repository's own policy passes on both rendered overlays, and every rule can fail: one deliberately
// bad manifest per rule (most rules have several), each made from the real render with one thing spoilt. (What Trivy
// checks, and its counter-examples, are in trivy.test.mjs.) A counter-example must make
// its rule fail; the clean render must make no rule fail. The facts side is proven as well: when the repository's
// facts change (a port, a new call, a new service), the unchanged manifests fail, so they cannot drift silently.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WORKSPACE } from '../check.mjs';
import { FactsError, readImageUser } from '../policy/facts.mjs';
import { checkObjects, RULES } from '../policy/rules.mjs';
import { serviceConfigDefaults } from '../policy/service-config.mjs';
import { clone, container, envEntry, facts, find, podSpec, renderedOverlay } from './support.mjs';

const SERVICES = Object.keys(facts.services);
let dev;
let production;
before(async () => {
  dev = (await renderedOverlay('dev')).objects;
  production = (await renderedOverlay('production')).objects;
});

const failingRules = (objects, environment, theFacts = facts) => [...new Set(checkObjects(objects, theFacts, { environment }).map((p) => p.rule))];

describe('the rendered overlays pass every rule', () => {
  test('the repository has the services and the call the manifests are checked against', () => {
    // the counter-examples below spoil these three and their call; a generated service adds to them
    for (const service of ['catalog', 'notifications', 'orders']) assert.ok(SERVICES.includes(service), service);
    const calls = facts.calls.map((c) => `${c.caller}->${c.callee} ${c.keyFileVariable}`);
    assert.ok(calls.includes('orders->catalog CATALOG_API_KEY_FILE'), calls.join('; '));
    assert.deepEqual(
      calls.filter((c) => /^(catalog|notifications|orders)->/.test(c)),
      ['orders->catalog CATALOG_API_KEY_FILE'],
    );
    for (const service of SERVICES) assert.equal(facts.services[service].shutdownGraceMs, 10_000, service);
    assert.deepEqual(facts.imageUser, { uid: 65532, gid: 65532 });
    assert.deepEqual(facts.limits, { memoryBytes: 256 * 1024 ** 2, cpus: 0.5 });
  });
  for (const environment of ['dev', 'production']) {
    test(`${environment}: no rule fails (${RULES.length} rules)`, async () => {
      const { objects } = await renderedOverlay(environment);
      assert.deepEqual(checkObjects(objects, facts, { environment }), []);
    });
  }
});

/**
 * [rule, description, environment, spoil(objects)]: each spoils a deep copy of the render. Services are taken in
 * turn so every service's manifests are exercised.
 */
const spoilers = [
  ['coverage', 'a service without its PodDisruptionBudget', 'production', (o) => o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'notifications')), 1)],
  [
    'coverage',
    'an object of a kind the policy does not know',
    'dev',
    (o) => o.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'secure-ci-dev' } }),
  ],
  ['namespace-pss', 'no enforce label', 'production', (o) => delete find(o, 'Namespace', 'secure-ci').metadata.labels['pod-security.kubernetes.io/enforce']],
  ['namespace-pss', 'warn: baseline', 'dev', (o) => (find(o, 'Namespace', 'secure-ci-dev').metadata.labels['pod-security.kubernetes.io/warn'] = 'baseline')],
  ['namespace-pss', 'an object in another namespace', 'production', (o) => (find(o, 'Service', 'orders').metadata.namespace = 'default')],
  ['run-as-image-user', 'runAsUser 10001, not the image USER', 'production', (o) => (podSpec(o, 'notifications').securityContext.runAsUser = 10001)],
  ['run-as-image-user', 'no runAsGroup', 'production', (o) => delete podSpec(o, 'orders').securityContext.runAsGroup],
  ['run-as-image-user', 'a container overriding runAsUser', 'dev', (o) => (container(o, 'catalog').securityContext.runAsUser = 1000)],
  ['run-as-image-user', 'a container overriding runAsGroup', 'production', (o) => (container(o, 'orders').securityContext.runAsGroup = 0)],
  ['run-as-image-user', 'root as a supplementary group', 'production', (o) => podSpec(o, 'catalog').securityContext.supplementalGroups.push(0)],
  ['run-as-image-user', 'another fsGroup', 'dev', (o) => (podSpec(o, 'notifications').securityContext.fsGroup = 0)],
  [
    'apparmor-profile',
    'AppArmor Unconfined for a container',
    'production',
    (o) => (container(o, 'orders').securityContext.appArmorProfile = { type: 'Unconfined' }),
  ],
  ['apparmor-profile', 'AppArmor Unconfined for the pod', 'dev', (o) => (podSpec(o, 'catalog').securityContext.appArmorProfile = { type: 'Unconfined' })],
  [
    'tmp-emptydir',
    'no /tmp mount',
    'production',
    (o) => (container(o, 'orders').volumeMounts = container(o, 'orders').volumeMounts.filter((m) => m.mountPath !== '/tmp')),
  ],
  [
    'tmp-emptydir',
    '/tmp emptyDir without sizeLimit',
    'dev',
    (o) => delete podSpec(o, 'notifications').volumes.find((v) => v.name === 'tmp').emptyDir.sizeLimit,
  ],
  ['probes', 'no startup probe', 'production', (o) => delete container(o, 'catalog').startupProbe],
  ['probes', 'liveness on /health', 'production', (o) => (container(o, 'orders').livenessProbe.httpGet.path = '/health')],
  ['probes', 'readiness on another port', 'dev', (o) => (container(o, 'notifications').readinessProbe.httpGet.port = 9999)],
  ['probes', 'a TCP readiness probe', 'production', (o) => (container(o, 'notifications').readinessProbe = { tcpSocket: { port: 'http' } })],
  ['resources', 'no memory limit', 'production', (o) => delete container(o, 'orders').resources.limits.memory],
  ['resources', 'no CPU limit', 'dev', (o) => delete container(o, 'catalog').resources.limits.cpu],
  ['resources', 'a memory limit other than compose', 'production', (o) => (container(o, 'notifications').resources.limits.memory = '1Gi')],
  ['resources', 'a CPU limit other than compose', 'dev', (o) => (container(o, 'orders').resources.limits.cpu = '2')],
  ['resources', 'a request above its limit', 'production', (o) => (container(o, 'catalog').resources.requests.memory = '512Mi')],
  ['prestop-sleep', 'no preStop', 'production', (o) => delete container(o, 'notifications').lifecycle],
  [
    'prestop-sleep',
    'an exec preStop (no shell in the image)',
    'production',
    (o) => (container(o, 'catalog').lifecycle.preStop = { exec: { command: ['sleep', '5'] } }),
  ],
  ['termination-grace', 'grace equal to sleep + shutdown grace', 'production', (o) => (podSpec(o, 'orders').terminationGracePeriodSeconds = 15)],
  ['termination-grace', 'a longer SHUTDOWN_GRACE_MS', 'dev', (o) => (envEntry(o, 'catalog', 'SHUTDOWN_GRACE_MS').value = '30000')],
  ['termination-grace', 'no terminationGracePeriodSeconds', 'production', (o) => delete podSpec(o, 'notifications').terminationGracePeriodSeconds],
  ['service-account-token', 'pod automountServiceAccountToken true', 'production', (o) => (podSpec(o, 'catalog').automountServiceAccountToken = true)],
  ['service-account-token', 'ServiceAccount mounting its token', 'dev', (o) => delete find(o, 'ServiceAccount', 'orders').automountServiceAccountToken],
  ['service-account-token', 'the default ServiceAccount', 'production', (o) => delete podSpec(o, 'notifications').serviceAccountName],
  ['pod-disruption-budget', 'no PodDisruptionBudget', 'production', (o) => o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'catalog')), 1)],
  ['pod-disruption-budget', 'maxUnavailable 0 blocks drains', 'dev', (o) => (find(o, 'PodDisruptionBudget', 'orders').spec.maxUnavailable = 0)],
  ['pod-disruption-budget', 'one replica in production', 'production', (o) => (find(o, 'Deployment', 'notifications').spec.replicas = 1)],
  ['network-default-deny', 'no namespace-wide default deny', 'production', (o) => o.splice(o.indexOf(find(o, 'NetworkPolicy', 'default-deny')), 1)],
  ['network-default-deny', 'the default deny allows all ingress', 'dev', (o) => (find(o, 'NetworkPolicy', 'default-deny').spec.ingress = [{}])],
  [
    'network-default-deny',
    'a policy selecting by matchExpressions (which the checks do not read)',
    'production',
    (o) =>
      o.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'extra', namespace: 'secure-ci' },
        spec: { podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['catalog'] }] }, ingress: [{}] },
      }),
  ],
  [
    'network-default-deny',
    "a service's policy without Egress",
    'production',
    (o) => (find(o, 'NetworkPolicy', 'notifications').spec.policyTypes = ['Ingress']),
  ],
  [
    'network-ingress-callers',
    'an undeclared caller',
    'production',
    (o) => find(o, 'NetworkPolicy', 'catalog').spec.ingress[0].from.push({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'notifications' } } }),
  ],
  [
    'network-ingress-callers',
    'ingress from every namespace',
    'dev',
    (o) => (find(o, 'NetworkPolicy', 'catalog').spec.ingress[0].from = [{ namespaceSelector: {} }]),
  ],
  [
    'network-ingress-callers',
    'ingress from anywhere (no from)',
    'production',
    (o) => (find(o, 'NetworkPolicy', 'orders').spec.ingress = [{ ports: [{ protocol: 'TCP', port: 3002 }] }]),
  ],
  ['network-ingress-callers', 'the declared caller not admitted', 'production', (o) => delete find(o, 'NetworkPolicy', 'catalog').spec.ingress],
  ['network-ingress-callers', 'ingress on another port', 'dev', (o) => (find(o, 'NetworkPolicy', 'catalog').spec.ingress[0].ports[0].port = 8080)],
  [
    'network-egress-callees-dns',
    'egress to the internet',
    'production',
    (o) => find(o, 'NetworkPolicy', 'notifications').spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }),
  ],
  ['network-egress-callees-dns', 'no DNS', 'production', (o) => (find(o, 'NetworkPolicy', 'catalog').spec.egress = [])],
  [
    'network-egress-callees-dns',
    'DNS over UDP only',
    'dev',
    (o) => (find(o, 'NetworkPolicy', 'orders').spec.egress.find((r) => r.to[0].namespaceSelector).ports = [{ protocol: 'UDP', port: 53 }]),
  ],
  [
    'network-egress-callees-dns',
    'the declared callee not reachable',
    'production',
    (o) => (find(o, 'NetworkPolicy', 'orders').spec.egress = find(o, 'NetworkPolicy', 'orders').spec.egress.filter((r) => r.to[0].namespaceSelector)),
  ],
  [
    'network-egress-callees-dns',
    'an undeclared callee',
    'dev',
    (o) =>
      find(o, 'NetworkPolicy', 'notifications').spec.egress.push({
        to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'catalog' } } }],
        ports: [{ protocol: 'TCP', port: 3001 }],
      }),
  ],
  ['secrets-as-files', 'the key as an env value', 'production', (o) => container(o, 'catalog').env.push({ name: 'API_KEY', value: 'k-123' })],
  [
    'secrets-as-files',
    'the key from a secretKeyRef variable',
    'production',
    (o) => container(o, 'notifications').env.push({ name: 'NOTIFY_KEY', valueFrom: { secretKeyRef: { name: 'notifications-api-key', key: 'api-key' } } }),
  ],
  ['secrets-as-files', 'no API_KEY_FILE', 'dev', (o) => (container(o, 'catalog').env = container(o, 'catalog').env.filter((e) => e.name !== 'API_KEY_FILE'))],
  [
    'secrets-as-files',
    "the caller's callee key file missing",
    'production',
    (o) => (container(o, 'orders').env = container(o, 'orders').env.filter((e) => e.name !== 'CATALOG_API_KEY_FILE')),
  ],
  [
    'secrets-as-files',
    'the Secret mount writable',
    'production',
    (o) => (container(o, 'orders').volumeMounts.find((m) => m.name === 'api-key').readOnly = false),
  ],
  ['secrets-as-files', 'API_KEY_FILE on the /tmp emptyDir', 'production', (o) => (envEntry(o, 'notifications', 'API_KEY_FILE').value = '/tmp/api-key')],
  [
    'secrets-as-files',
    'the key file world-readable',
    'production',
    (o) => (podSpec(o, 'catalog').volumes.find((v) => v.name === 'api-key').secret.defaultMode = 0o644),
  ],
  [
    'secrets-as-files',
    'dev: the Secret missing from the render',
    'dev',
    (o) =>
      o.splice(
        o.findIndex((x) => x.kind === 'Secret' && x.metadata.name.startsWith('orders-api-key')),
        1,
      ),
  ],
  [
    'production-secrets-external',
    'a Secret in the production render',
    'production',
    (o) => o.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'catalog-api-key', namespace: 'secure-ci' }, data: { 'api-key': 'eA==' } }),
  ],
  ['ports', 'another container port', 'production', (o) => (container(o, 'catalog').ports[0].containerPort = 8080)],
  ['ports', 'another PORT', 'dev', (o) => (envEntry(o, 'orders', 'PORT').value = '3005')],
  ['ports', 'another Service port', 'production', (o) => (find(o, 'Service', 'notifications').spec.ports[0].port = 80)],
  ['ports', 'a Service selecting other pods', 'production', (o) => (find(o, 'Service', 'orders').spec.selector = { 'app.kubernetes.io/name': 'catalog' })],
  ['images', 'a mutable tag in production', 'production', (o) => (container(o, 'catalog').image = 'ghcr.io/acme/shop/catalog:1.2.3')],
  [
    'images',
    'a tag next to the digest in production',
    'production',
    (o) => (container(o, 'orders').image = `ghcr.io/acme/shop/orders:latest@sha256:${'a'.repeat(64)}`),
  ],
  ['images', "another service's image", 'dev', (o) => (container(o, 'notifications').image = 'secure-ci/catalog:local')],
];

describe('every rule fails on a deliberately bad manifest', () => {
  test('every rule has at least one counter-example', () => {
    const covered = new Set(spoilers.map(([rule]) => rule));
    assert.deepEqual(
      RULES.map((r) => r.id).filter((id) => !covered.has(id)),
      [],
    );
    for (const [rule] of spoilers)
      assert.ok(
        RULES.some((r) => r.id === rule),
        `unknown rule ${rule}`,
      );
  });
  for (const [rule, description, environment, spoil] of spoilers) {
    test(`${rule}: ${description} (${environment})`, () => {
      const objects = clone(environment === 'dev' ? dev : production);
      spoil(objects);
      assert.ok(failingRules(objects, environment).includes(rule), `${rule} fails; failing: ${failingRules(objects, environment).join(', ') || 'none'}`);
    });
  }
});

describe('the manifests cannot drift from the repository facts', () => {
  const withFacts = (change) => {
    const changed = clone(facts);
    change(changed);
    return changed;
  };
  test("a service's port changes in project.json: ports, probes and network rules fail", () => {
    const changed = withFacts((f) => (f.services.catalog.port = 3005));
    const failing = failingRules(production, 'production', changed);
    for (const rule of ['ports', 'probes', 'network-ingress-callers', 'network-egress-callees-dns'])
      assert.ok(failing.includes(rule), `${rule} fails: ${failing}`);
  });
  test('a new call in metadata.calls: the network rules fail until the manifests declare it', () => {
    const changed = withFacts((f) => f.calls.push({ caller: 'notifications', callee: 'orders', keyFileVariable: null }));
    const failing = failingRules(production, 'production', changed);
    for (const rule of ['network-ingress-callers', 'network-egress-callees-dns']) assert.ok(failing.includes(rule), `${rule} fails: ${failing}`);
  });
  test('a new service under apps/: coverage fails until it has its base', () => {
    const changed = withFacts((f) => (f.services.billing = { name: 'billing', port: 3004 }));
    assert.ok(failingRules(dev, 'dev', changed).includes('coverage'));
  });
  test("the images' USER or compose's limits change: the user and resources rules fail", () => {
    assert.ok(
      failingRules(
        production,
        'production',
        withFacts((f) => (f.imageUser = { uid: 10001, gid: 10001 })),
      ).includes('run-as-image-user'),
    );
    assert.ok(
      failingRules(
        dev,
        'dev',
        withFacts((f) => (f.limits.memoryBytes = 512 * 1024 ** 2)),
      ).includes('resources'),
    );
  });
  test("the service's own SHUTDOWN_GRACE_MS default matters where a Deployment does not set it", () => {
    const objects = clone(production);
    container(objects, 'catalog').env = container(objects, 'catalog').env.filter((e) => e.name !== 'SHUTDOWN_GRACE_MS');
    assert.deepEqual(failingRules(objects, 'production'), []);
    assert.ok(
      failingRules(
        objects,
        'production',
        withFacts((f) => (f.services.catalog.shutdownGraceMs = 20_000)),
      ).includes('termination-grace'),
    );
  });
});

describe('the facts are read with real parsers, so a harmless refactor keeps them', () => {
  // inside the workspace's node_modules, so the compiled config modules resolve zod as the services do
  const scratch = () => mkdtempSync(path.join(WORKSPACE, 'node_modules/.cache/secure-ci/k8s-facts-test-'));
  const write = (root, file, text) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };

  test("the images' USER: the final stage's, in any spelling Docker accepts; none is one line", () => {
    const root = scratch();
    try {
      write(root, 'Dockerfile', 'FROM debian AS build\nUSER 0:0\nRUN true\n\nFROM scratch\n# runs as nonroot\nuser \\\n  10001:10002\nENTRYPOINT ["/app"]\n');
      assert.deepEqual(readImageUser(root, 'Dockerfile'), { uid: 10001, gid: 10002 });
      write(root, 'Dockerfile', 'FROM debian\nUSER 65532:65532\nFROM scratch\nCOPY --from=0 /x /x\n');
      assert.throws(
        () => readImageUser(root, 'Dockerfile'),
        (error) => error instanceof FactsError && /^Dockerfile: its final stage has no numeric USER uid:gid$/.test(error.message),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a service's SHUTDOWN_GRACE_MS default comes from its config schema, wherever the number is written", async () => {
    const root = scratch();
    try {
      write(root, 'tsconfig.base.json', '{}');
      write(
        root,
        'apps/a/src/config.ts',
        "import { z } from 'zod';\nimport { GRACE } from './limits';\nexport const configSchema = z.object({ SHUTDOWN_GRACE_MS: z.coerce.number().default(GRACE) });\n",
      );
      write(root, 'apps/a/src/limits.ts', 'const SECONDS = 1000;\nexport const GRACE: number = 7 * SECONDS;\n');
      write(root, 'apps/b/src/config.ts', "import { z } from 'zod';\nexport const configSchema = z.object({ SHUTDOWN_GRACE_MS: z.coerce.number() });\n");
      assert.deepEqual(await serviceConfigDefaults(root, [{ name: 'a', root: 'apps/a' }]), { a: { SHUTDOWN_GRACE_MS: 7000 } });
      await assert.rejects(serviceConfigDefaults(root, [{ name: 'b', root: 'apps/b' }]), /^Error: apps\/b\/src\/config\.ts: SHUTDOWN_GRACE_MS has no default$/);
      await assert.rejects(
        serviceConfigDefaults(root, [{ name: 'c', root: 'apps/c' }]),
        /cannot compile the services' config modules: .*apps\/c\/src\/config\.ts/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
