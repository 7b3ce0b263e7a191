// Trivy's Kubernetes checks (policy/trivy.mjs) with the real Trivy the image tests use: both rendered overlays pass
// with 0 failures, and deliberately bad Deployments, each the real render with one thing spoilt, fail the check that
// covers it (the Pod Security "restricted"/"baseline" controls the hand-written rules used to check). A missing trivy
// is one line saying how to install it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { K8S_DIR } from '../check.mjs';
import { findTrivy, isSetAside, SET_ASIDE, TrivyError, trivyFindings } from '../policy/trivy.mjs';
import { which } from '../../../tools/lib/process.mjs';
import { runTool } from '../../../tools/test/support/run-tool.mjs';
import { clone, find, overlay, renderedOverlay, trivy } from './support.mjs';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'k8s-trivy-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the rendered overlays pass Trivy', () => {
  for (const environment of ['dev', 'production']) {
    test(`${environment}: 0 failures, every object checked`, async () => {
      const { objects, trivy: result } = await overlay(environment);
      assert.deepEqual(result.findings, []);
      // ~150 checks per object ran (the packaged build has 149 besides the one set aside)
      assert.ok(result.passed >= 100 * objects.length, `${result.passed} passed checks over ${objects.length} objects`);
    });
  }
});

const pod = (d) => d.spec.template.spec;
const app = (d) => pod(d).containers[0];
/** [expected check, description, spoil(catalog's production Deployment)] */
const SPOILERS = [
  [
    'KSV012',
    'runAsNonRoot false for the pod, unset for the container',
    (d) => {
      pod(d).securityContext.runAsNonRoot = false;
      delete app(d).securityContext.runAsNonRoot;
    },
  ],
  ['KSV105', 'runAsUser 0', (d) => (app(d).securityContext.runAsUser = 0)],
  ['KSV020', 'a uid in the host range', (d) => (app(d).securityContext.runAsUser = 1000)],
  [
    'KSV030',
    'seccomp Unconfined for the pod, unset for the container',
    (d) => {
      pod(d).securityContext.seccompProfile.type = 'Unconfined';
      delete app(d).securityContext.seccompProfile;
    },
  ],
  ['KSV104', 'seccomp Unconfined for the container', (d) => (app(d).securityContext.seccompProfile.type = 'Unconfined')],
  ['KSV001', 'allowPrivilegeEscalation true', (d) => (app(d).securityContext.allowPrivilegeEscalation = true)],
  ['KSV001', 'allowPrivilegeEscalation unset', (d) => delete app(d).securityContext.allowPrivilegeEscalation],
  ['KSV003', 'capabilities: drop only NET_RAW', (d) => (app(d).securityContext.capabilities.drop = ['NET_RAW'])],
  ['KSV005', 'capabilities: add SYS_ADMIN', (d) => (app(d).securityContext.capabilities.add = ['SYS_ADMIN'])],
  ['KSV022', 'capabilities: add NET_BIND_SERVICE', (d) => (app(d).securityContext.capabilities.add = ['NET_BIND_SERVICE'])],
  ['KSV017', 'privileged', (d) => (app(d).securityContext.privileged = true)],
  ['KSV014', 'a writable root filesystem', (d) => (app(d).securityContext.readOnlyRootFilesystem = false)],
  ['KSV009', 'hostNetwork', (d) => (pod(d).hostNetwork = true)],
  ['KSV010', 'hostPID', (d) => (pod(d).hostPID = true)],
  ['KSV008', 'hostIPC', (d) => (pod(d).hostIPC = true)],
  ['KSV024', 'a hostPort', (d) => (app(d).ports[0].hostPort = 3001)],
  ['KSV023', 'a hostPath volume', (d) => pod(d).volumes.push({ name: 'host', hostPath: { path: '/' } })],
  ['KSV028', 'a volume type restricted forbids (nfs)', (d) => pod(d).volumes.push({ name: 'share', nfs: { server: 'nfs.example.com', path: '/' } })],
  ['KSV026', 'an unsafe sysctl', (d) => (pod(d).securityContext.sysctls = [{ name: 'net.core.somaxconn', value: '1024' }])],
  ['KSV027', 'an unmasked /proc', (d) => (app(d).securityContext.procMount = 'Unmasked')],
  ['KSV025', 'a custom SELinux type', (d) => (pod(d).securityContext.seLinuxOptions = { type: 'spc_t' })],
  ['KSV002', 'AppArmor unconfined', (d) => (d.spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' })],
  ['KSV011', 'no CPU limit', (d) => delete app(d).resources.limits.cpu],
  ['KSV018', 'no memory limit', (d) => delete app(d).resources.limits.memory],
  ['KSV015', 'no CPU request', (d) => delete app(d).resources.requests.cpu],
  ['KSV016', 'no memory request', (d) => delete app(d).resources.requests.memory],
  ['KSV013', 'an image by the tag latest', (d) => (app(d).image = 'ghcr.io/acme/shop/catalog:latest')],
];

describe('deliberately bad manifests fail the Trivy check that covers them', () => {
  let results;
  /** One Trivy run over every spoilt copy (each a Deployment of its own name) and the clean one. */
  const spoilt = async () => {
    if (results) return results;
    const { objects } = await renderedOverlay('production');
    const clean = find(objects, 'Deployment', 'catalog');
    const copies = SPOILERS.map(([, , spoil], index) => {
      const copy = clone(clean);
      copy.metadata.name = `catalog-${index}`;
      spoil(copy);
      return copy;
    });
    const { findings } = trivyFindings([clean, ...copies], { trivy });
    results = (name) => findings.filter((f) => f.object === `Deployment/${name}`).map((f) => f.id);
    return results;
  };

  test('the unspoilt Deployment fails no check', async () => {
    assert.deepEqual((await spoilt())('catalog'), []);
  });
  SPOILERS.forEach(([id, description, spoil], index) => {
    test(`${id}: ${description}`, async () => {
      assert.ok((await spoilt())(`catalog-${index}`).includes(id), `${id} in [${(await spoilt())(`catalog-${index}`)}] (${spoil})`);
    });
  });
  test('a finding names the object, the check, its severity and its message', async () => {
    const { objects } = await renderedOverlay('dev');
    const bad = clone(find(objects, 'Deployment', 'orders'));
    app(bad).securityContext.privileged = true;
    const { findings } = trivyFindings([bad], { trivy });
    assert.deepEqual(
      findings.map((f) => [f.id, f.object, f.severity]),
      [['KSV017', 'Deployment/orders', 'HIGH']],
    );
    assert.match(findings[0].message, /privileged/i);
  });
});

describe('Trivy findings and set-aside checks', () => {
  test('a set-aside check is recognised by its ID or its AVD ID, and no other check is', () => {
    assert.deepEqual(
      [{ ID: 'KSV116' }, { AVDID: 'AVD-KSV-0116' }, { ID: 'KSV-0116', AVDID: 'AVD-KSV-0116' }, { ID: 'KSV016' }, { ID: 'KSV0012' }, {}].map(isSetAside),
      [true, true, true, false, false, false],
    );
  });
  test('only the checks listed with a reason are set aside', () => {
    assert.deepEqual(Object.keys(SET_ASIDE), ['KSV116']);
    assert.match(SET_ASIDE.KSV116, /aquasecurity\/trivy#\d+/);
  });
});

describe('no trivy: one line saying how to install it', () => {
  test('findTrivy: TRIVY_BIN wins; else PATH; else one line', () => {
    assert.equal(findTrivy({ TRIVY_BIN: trivy, PATH: '' }), trivy);
    assert.throws(
      () => findTrivy({ TRIVY_BIN: path.join(tmp, 'nope') }),
      (e) => e instanceof TrivyError && /^TRIVY_BIN=.*nope does not exist: install trivy/.test(e.message),
    );
    assert.throws(
      () => findTrivy({ PATH: path.join(tmp, 'empty') }),
      (e) =>
        e instanceof TrivyError &&
        e.message === `trivy not found on PATH: install trivy (https://trivy.dev/latest/getting-started/installation/) or set TRIVY_BIN to its path`,
    );
  });

  test('the CLI with kubectl but no trivy: exit 2, one line on stderr, nothing on stdout', () => {
    const bin = path.join(tmp, 'kubectl-only');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['kubectl', 'bash']) symlinkSync(which.sync(tool), path.join(bin, tool));
    const r = runTool(path.join(K8S_DIR, 'check.mjs'), ['production'], { env: { HOME: process.env.HOME, PATH: bin } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^k8s-check: error: trivy not found on PATH: install trivy \(https:\/\/trivy\.dev\/.*\) or set TRIVY_BIN to its path\n$/);
  });
});
