// "Changing catalog's port is a one-line edit of apps/catalog/project.json plus `npx nx sync`", on a throwaway clone
// of HEAD (support/throwaway-clone.mjs; no image build, no engine needed beyond the Compose CLI): `nx sync:check`
// fails naming the stale files and the command that fixes them, `nx sync` rewrites them, `sync:check` passes, and
// the compose config `npm start` runs (`docker compose config`), both rendered Kubernetes overlays (`kubectl
// kustomize`) and the Kubernetes policy (deploy/k8s/check.mjs: schema, Trivy, rules) all carry the new port and
// nowhere the old one.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { listServices } from '../../lib/services.mjs';
import { trivyBinary } from '../support/real-trivy.mjs';
import { throwawayClone } from '../support/throwaway-clone.mjs';

const SERVICE = 'catalog';
const PROJECT_FILE = `apps/${SERVICE}/project.json`;
const services = listServices();
const { port: OLD } = services.find((s) => s.name === SERVICE);
const CALLERS = services.filter((s) => s.calls.includes(SERVICE)).map((s) => s.name);
// a port no service uses, and whose digits occur in no other number of the rendered files
const NEW = 3987;
const URL_VARIABLE = `${SERVICE.toUpperCase()}_URL`;
const whole = (port) => new RegExp(`(?<![\\d.])${port}(?![\\d])`);
let clone;

before(() => {
  assert.ok(CALLERS.length, `${SERVICE} has a caller (metadata.calls) whose files must follow`);
  assert.ok(!services.some((s) => s.port === NEW));
  clone = throwawayClone('port-change');
});
after(() => clone?.remove());

test(`a one-line edit of ${PROJECT_FILE}: nx sync:check fails naming the stale files and \`npx nx sync\``, async () => {
  const file = path.join(clone.dir, PROJECT_FILE);
  const text = readFileSync(file, 'utf8');
  const edited = text.replace(new RegExp(`("port":\\s*)${OLD}\\b`), `$1${NEW}`);
  assert.notEqual(edited, text);
  writeFileSync(file, edited);
  assert.equal(clone.git('diff', '--numstat').split('\n').join(), `1\t1\t${PROJECT_FILE}`, 'one line changed');

  const check = await clone.attempt('npx', ['nx', 'sync:check']);
  const out = `${check.stdout}\n${check.stderr}`;
  assert.notEqual(check.status, 0, out);
  assert.match(out, /Run: npx nx sync/);
  for (const stale of [
    `apps/${SERVICE}/compose.yaml`,
    `deploy/k8s/base/${SERVICE}/deployment.yaml`,
    `deploy/k8s/base/${SERVICE}/service.yaml`,
    `deploy/k8s/base/${SERVICE}/networkpolicy.yaml`,
    ...CALLERS.flatMap((c) => [`apps/${c}/compose.yaml`, `deploy/k8s/base/${c}/deployment.yaml`, `deploy/k8s/base/${c}/networkpolicy.yaml`]),
  ])
    assert.ok(out.includes(stale), `${stale} named in:\n${out}`);
});

test('npx nx sync rewrites them; sync:check then passes', async () => {
  await clone.run('npx', ['nx', 'sync']);
  await clone.run('npx', ['nx', 'sync:check']);
  const changed = clone.git('status', '--porcelain').split('\n');
  assert.ok(changed.length > 1, changed.join('\n'));
});

test('docker compose config (what npm start runs): the new port everywhere, the old one nowhere', async () => {
  const out = await clone.run('docker', ['compose', '-f', 'compose.yaml', 'config', '--format', 'json']);
  const config = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1));
  const [published] = config.services[SERVICE].ports;
  assert.equal(published.target, NEW);
  assert.equal(String(published.published), String(NEW));
  for (const caller of CALLERS) assert.equal(config.services[caller].environment[URL_VARIABLE], `http://${SERVICE}:${NEW}`);
  assert.doesNotMatch(JSON.stringify(config), whole(OLD));
});

for (const overlay of ['dev', 'production']) {
  test(`kubectl kustomize ${overlay}: containerPort, PORT, Service, both NetworkPolicies and the callers' URL follow`, async () => {
    const out = await clone.run('kubectl', ['kustomize', `deploy/k8s/overlays/${overlay}`]);
    const objects = YAML.parseAllDocuments(out).map((d) => d.toJS());
    const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
    const [app] = find('Deployment', SERVICE).spec.template.spec.containers;
    assert.equal(app.ports[0].containerPort, NEW);
    assert.equal(app.env.find((e) => e.name === 'PORT').value, String(NEW));
    assert.equal(find('Service', SERVICE).spec.ports[0].port, NEW);
    for (const rule of find('NetworkPolicy', SERVICE).spec.ingress) assert.deepEqual(rule.ports, [{ protocol: 'TCP', port: NEW }]);
    for (const caller of CALLERS) {
      const [callerApp] = find('Deployment', caller).spec.template.spec.containers;
      assert.equal(callerApp.env.find((e) => e.name === URL_VARIABLE).value, `http://${SERVICE}:${NEW}`);
      const egress = find('NetworkPolicy', caller).spec.egress.find((r) => r.to[0].podSelector?.matchLabels?.['app.kubernetes.io/name'] === SERVICE);
      assert.deepEqual(egress.ports, [{ protocol: 'TCP', port: NEW }]);
    }
    assert.doesNotMatch(out, whole(OLD));
  });
}

test('the Kubernetes policy passes on both overlays of the clone (node deploy/k8s/check.mjs)', async () => {
  const out = await clone.run(process.execPath, ['deploy/k8s/check.mjs'], { TRIVY_BIN: await trivyBinary() });
  assert.match(out, /dev/);
  assert.match(out, /production/);
});
