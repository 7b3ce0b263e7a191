// Both overlays render with `kubectl kustomize`, every object is valid against the Kubernetes API schema, the
// production images are digests only, and a missing or too old kubectl is one clear line (never a skip).
// No cluster is involved: none can be started here (no node or system image can be pulled), so this is the proof.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { checkOverlay, K8S_DIR, WORKSPACE } from '../check.mjs';
import { render, RenderError } from '../policy/render.mjs';
import { MODELS_VERSION, SCHEMA_VERSION, validateObjects } from '../policy/schema.mjs';
import { which } from '../../../tools/lib/process.mjs';
import { runTool } from '../../../tools/test/support/run-tool.mjs';
import { clone, container, facts, find, renderedOverlay, trivy } from './support.mjs';

const CHECK = path.join(K8S_DIR, 'check.mjs');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'k8s-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const kinds = (objects) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const perService = (name) => ['Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount'].map((kind) => `${kind}/${name}`);

describe('render', () => {
  test('dev: the namespace, every service, and the generated development Secrets', async () => {
    const { objects } = await renderedOverlay('dev');
    const names = kinds(objects).map((n) => n.replace(/^(Secret\/.+-api-key)-[a-z0-9]+$/, '$1'));
    const expected = [
      'Namespace/secure-ci-dev',
      'NetworkPolicy/default-deny',
      ...Object.keys(facts.services).flatMap((s) => [...perService(s), `Secret/${s}-api-key`]),
    ].sort();
    assert.deepEqual(names, expected);
    for (const service of Object.keys(facts.services)) assert.match(container(objects, service).image, new RegExp(`^secure-ci/${service}:local$`));
  });

  test('production: the namespace and every service at two replicas, no Secret', async () => {
    const { objects } = await renderedOverlay('production');
    assert.deepEqual(kinds(objects), ['Namespace/secure-ci', 'NetworkPolicy/default-deny', ...Object.keys(facts.services).flatMap(perService)].sort());
    for (const service of Object.keys(facts.services)) assert.equal(find(objects, 'Deployment', service).spec.replicas, 2);
  });

  test('production: every container image is by digest (@sha256:), none by a mutable tag', async () => {
    const { objects } = await renderedOverlay('production');
    const images = objects
      .filter((o) => o.kind === 'Deployment')
      .flatMap((d) => [...(d.spec.template.spec.initContainers ?? []), ...d.spec.template.spec.containers].map((c) => c.image));
    assert.equal(images.length, Object.keys(facts.services).length);
    for (const image of images) assert.match(image, /^[^:@]+(:\d+)?\/[^:@]+@sha256:[0-9a-f]{64}$/);
  });

  test('one base per service, each renderable on its own with exactly its five objects; the namespace base too', () => {
    for (const service of Object.keys(facts.services)) {
      assert.deepEqual(kinds(render(path.join(K8S_DIR, 'base', service))), perService(service), service);
    }
    const namespace = render(path.join(K8S_DIR, 'base/namespace'));
    assert.deepEqual(kinds(namespace), ['Namespace/secure-ci', 'NetworkPolicy/default-deny'], 'what the README applies before creating the production Secrets');
  });

  test("the k8s project depends on every service (so nx affected runs these tests when a service's facts change)", () => {
    // every project tagged type:service, so a generated service is a dependency with no edit here
    const project = JSON.parse(readFileSync(path.join(K8S_DIR, 'project.json'), 'utf8'));
    assert.deepEqual(project.implicitDependencies, ['tag:type:service']);
  });

  test('a deliberately bad overlay on top of production fails the policy (rendered by kubectl, not edited in memory)', async () => {
    const dir = path.join(tmp, 'bad-overlay');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const base = path.relative(dir, path.join(K8S_DIR, 'overlays/production'));
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      [
        'resources:',
        `  - ${base}`,
        'patches:',
        '  - target: { kind: Deployment, name: catalog }',
        '    patch: |-',
        '      - op: replace',
        '        path: /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation',
        '        value: true',
        '      - op: replace',
        '        path: /spec/template/spec/containers/0/image',
        '        value: ghcr.io/acme/shop/catalog:latest',
        '',
      ].join('\n'),
    );
    const { schemaProblems, trivy: found, policyProblems } = await checkOverlay('production', { dir, facts, trivy });
    assert.deepEqual(schemaProblems, []);
    assert.deepEqual(
      found.findings.map((f) => `${f.id} ${f.object}`).sort(),
      ['KSV001 Deployment/catalog', 'KSV013 Deployment/catalog'],
      'Trivy: privilege escalation, the tag latest',
    );
    assert.deepEqual([...new Set(policyProblems.map((p) => p.rule))].sort(), ['images'], 'our policy: not by digest');
  });

  test('a broken kustomization is one line naming the overlay', () => {
    const dir = path.join(tmp, 'broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'kustomization.yaml'), 'resources:\n  - does-not-exist.yaml\n');
    assert.throws(
      () => render(dir),
      (error) => error instanceof RenderError && /^kubectl kustomize .*broken failed: /.test(error.message) && !error.message.includes('\n'),
    );
  });
});

describe(`schema (Kubernetes ${SCHEMA_VERSION}, kubernetes-models)`, () => {
  test(`the installed kubernetes-models is ${MODELS_VERSION}, the release generated from ${SCHEMA_VERSION}`, () => {
    const installed = JSON.parse(readFileSync(path.join(WORKSPACE, 'node_modules/kubernetes-models/package.json'), 'utf8')).version;
    const pinned = JSON.parse(readFileSync(path.join(WORKSPACE, 'package.json'), 'utf8')).devDependencies['kubernetes-models'];
    assert.deepEqual([installed, pinned], [MODELS_VERSION, MODELS_VERSION]);
  });

  for (const environment of ['dev', 'production']) {
    test(`${environment}: every object is valid`, async () => {
      const { objects, schemaProblems } = await renderedOverlay(environment);
      assert.ok(objects.length >= 17);
      assert.deepEqual(schemaProblems, []);
    });
  }

  test('a long Secret value, which Kustomize writes over several lines, is valid; a value outside base64 is not', async () => {
    const dir = path.join(tmp, 'long-secret');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'kustomization.yaml'), `secretGenerator:\n  - name: long\n    literals:\n      - api-key=${'k'.repeat(60)}\n`);
    const [secret] = render(dir);
    assert.match(secret.data['api-key'], /\n./, 'Kustomize wrapped the value');
    assert.deepEqual(await validateObjects([secret]), []);
    const spaced = clone(secret);
    spaced.data['api-key'] = secret.data['api-key'].replace('\n', ' ');
    const problems = await validateObjects([spaced]);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^Secret\/long-[a-z0-9]+: .*must match format "byte"/);
  });

  test('invalid objects fail: wrong types, a missing required field, an unknown kind', async () => {
    const { objects } = await renderedOverlay('production');
    const replicas = clone(find(objects, 'Deployment', 'catalog'));
    replicas.spec.replicas = 'two';
    const port = clone(find(objects, 'Deployment', 'orders'));
    port.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const noContainers = clone(find(objects, 'Deployment', 'notifications'));
    delete noContainers.spec.template.spec.containers;
    const sleep = clone(find(objects, 'Deployment', 'catalog'));
    sleep.spec.template.spec.containers[0].lifecycle.preStop.sleep.seconds = '5s';
    const policy = clone(find(objects, 'NetworkPolicy', 'catalog'));
    policy.spec.policyTypes = 'Ingress';
    const typo = { apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } };
    const problems = await validateObjects([replicas, port, noContainers, sleep, policy, typo]);
    assert.equal(problems.length, 6, problems.join('\n'));
    assert.match(problems[0], /^Deployment\/catalog: .*replicas must be integer/);
    assert.match(problems[1], /^Deployment\/orders: .*containerPort must be integer/);
    assert.match(problems[2], /^Deployment\/notifications: .*containers/);
    assert.match(problems[3], /seconds must be integer/);
    assert.match(problems[4], /^NetworkPolicy\/catalog: .*policyTypes must be array/);
    assert.match(problems[5], new RegExp(`apps/v1/Deploymnet is not a Kubernetes ${SCHEMA_VERSION} API type`));
  });
});

describe('kubectl missing or too old: one clear line, exit 2', () => {
  const runCheck = (env) => runTool(CHECK, ['production'], { env: { HOME: process.env.HOME, ...env } });

  test('no kubectl on PATH', () => {
    const r = runCheck({ PATH: path.join(tmp, 'empty-bin') });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^k8s-check: error: kubectl not found on PATH: install kubectl >= 1\.27 \(Kustomize >= 5\): `bash \.ci\/install-kubectl`.*\n$/);
    assert.equal(r.stderr.split('\n').length, 2, 'exactly one line');
  });

  test("Debian bookworm's kubectl 1.20 (Kustomize v2.0.3, no components)", () => {
    const bin = path.join(tmp, 'old-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'kubectl'), `#!/bin/sh\necho '{"clientVersion":{"gitVersion":"v1.20.2"},"kustomizeVersion":"v2.0.3"}'\n`);
    chmodSync(path.join(bin, 'kubectl'), 0o755);
    // zx (which runs kubectl) finds bash on PATH, as on every machine that has kubectl
    symlinkSync(which.sync('bash'), path.join(bin, 'bash'));
    const r = runCheck({ PATH: bin });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^k8s-check: error: kubectl's Kustomize v2\.0\.3 is older than 5\.0\.0: install kubectl >= 1\.27/);
    assert.equal(r.stderr.split('\n').length, 2, 'exactly one line');
  });

  test('the CLI passes on the real overlays', () => {
    const r = runTool(CHECK, [], { env: { ...process.env, TRIVY_BIN: trivy } });
    assert.equal(r.status, 0, r.stderr);
    // the namespace and its default deny, then per service its five objects (and in dev its Secret)
    const services = Object.keys(facts.services).length;
    assert.match(
      r.stdout,
      new RegExp(
        `^dev: ${2 + 6 * services} objects valid against the Kubernetes v1\\.33\\.0 schema; Trivy's Kubernetes checks: \\d+ passed, 0 failed.*; \\d+ policy rules pass\nproduction: ${2 + 5 * services} objects valid`,
      ),
    );
  });
});
