// The compose files and the stack tool without images: what `compose config` resolves (with whichever Compose this
// machine has: Compose v2), the one-definition layout, and the tool's command line, preflight and reporting.
// The running stack is tested in tools/test/e2e/stack.test.mjs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { detectDocker, MINIMUM, toolchainProblems } from '../lib/docker-engine.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';
import { parseStackArgs } from '../lib/stack/options.mjs';
import { ComposeStack } from '../lib/stack/compose.mjs';
import { verdict } from '../lib/stack/health.mjs';
import { apiKeyFile, sampleCurl, serviceUrl } from '../lib/stack/report.mjs';
import { buildableServices } from '../lib/stack/images.mjs';
import { secretFileProblems } from '../lib/stack/secret-files.mjs';
import { listServices, portVariable } from '../lib/services.mjs';
import { preflightProblems } from '../stack.mjs';
import { runTool } from './support/run-tool.mjs';

// The services and their ports as declared once (apps/<name>/project.json): the compose files must agree.
const FACTS = listServices();
const SERVICES = Object.fromEntries(FACTS.map((s) => [s.name, s.port]));
const callsOf = (name) => FACTS.find((s) => s.name === name)?.calls ?? [];
/** A service and everything it calls, transitively: what its own entry file must run. */
const withCallees = (name, out = new Set()) => {
  if (!out.has(name)) {
    out.add(name);
    callsOf(name).forEach((c) => withCallees(c, out));
  }
  return out;
};
const ENTRY_FILES = {
  'compose.yaml': Object.keys(SERVICES).sort(),
  ...Object.fromEntries(FACTS.map((s) => [`${s.root}/compose.yaml`, [...withCallees(s.name)].sort()])),
};
// Variables a developer may have set that would change what is resolved here.
const CLEAN_ENV = Object.fromEntries(
  [
    'IMAGE_PREFIX',
    'IMAGE_TAG',
    'LOG_LEVEL',
    'CATALOG_TIMEOUT_MS',
    ...Object.keys(SERVICES).flatMap((s) => [portVariable(s), `${s.toUpperCase().replace(/-/g, '_')}_API_KEY_FILE`]),
  ].map((k) => [k, '']),
);

async function resolved(file, env = {}) {
  const toolchain = await detectDocker();
  // Never skip: a machine without Compose fails these tests with the fix in the message.
  assert.deepEqual(toolchainProblems(toolchain, { needCompose: true, needBuildx: false }), []);
  const stack = new ComposeStack(toolchain, { file: path.join(workspaceRoot, file), project: 'stack-config-test', env: { ...CLEAN_ENV, ...env } });
  return stack.config();
}

/** Duration strings as Compose prints them ("15s", "1m30s", "1m0s") -> ms. */
function durationMs(value) {
  if (typeof value === 'number') return value / 1e6; // nanoseconds
  let total = 0;
  for (const [, n, unit] of String(value).matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(n) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[unit];
  return total;
}

/** Compose prints ports as {host_ip, published, target} (or, in short syntax, "127.0.0.1:3001:3001/tcp"). */
function ports(service) {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: Number(p.target) };
    const parts = String(p)
      .replace(/\/tcp$/, '')
      .split(':');
    return parts.length === 3
      ? { hostIp: parts[0], published: parts[1], target: Number(parts[2]) }
      : { hostIp: '', published: parts[0], target: Number(parts.at(-1)) };
  });
}

function environment(service) {
  const env = service.environment ?? {};
  return Array.isArray(env) ? Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : env;
}

const secretNames = (service) => (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
const bytes = (value) => {
  const m = /^(\d+)([kmg]?)b?$/i.exec(String(value));
  return m ? Number(m[1]) * { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase()] : NaN;
};

describe('compose files resolve to hardened services', () => {
  for (const [file, expected] of Object.entries(ENTRY_FILES)) {
    test(`${file}: services ${expected.join(', ')}, each hardened, loopback ports, secrets via *_FILE`, async () => {
      const config = await resolved(file);
      assert.deepEqual(Object.keys(config.services).sort(), expected);
      assert.deepEqual(buildableServices(config), expected);
      for (const [name, service] of Object.entries(config.services)) {
        const where = `${file} ${name}`;
        assert.equal(service.image, `secure-ci/${name}:local`, where);
        assert.equal(service.read_only, true, where);
        assert.ok(
          (service.tmpfs ?? []).some((t) => String(t).split(':')[0] === '/tmp'),
          `${where}: tmpfs /tmp`,
        );
        assert.deepEqual(service.cap_drop, ['ALL'], where);
        assert.ok(service.security_opt?.includes('no-new-privileges:true'), `${where}: no-new-privileges`);
        assert.match(String(service.user), /^\d+:\d+$/, `${where}: numeric user`);
        assert.equal(String(service.user), '65532:65532', where);
        assert.ok(bytes(service.mem_limit) > 0 && bytes(service.mem_limit) <= 1024 ** 3, `${where}: mem_limit ${service.mem_limit}`);
        assert.ok(Number(service.cpus) > 0, `${where}: cpus`);
        assert.ok(Number(service.pids_limit) > 0, `${where}: pids_limit`);
        assert.match(String(service.restart), /^(unless-stopped|on-failure(:\d+)?)$/, where);
        assert.ok(service.healthcheck && !service.healthcheck.disable, `${where}: healthcheck`);
        const env = environment(service);
        assert.equal(env.PORT, undefined, `${where}: PORT is the image's own (metadata.port, baked in at build time)`);
        const grace = Number(env.SHUTDOWN_GRACE_MS);
        assert.ok(grace > 0, `${where}: SHUTDOWN_GRACE_MS set`);
        // SIGKILL must never come before the service's own shutdown deadline.
        assert.ok(durationMs(service.stop_grace_period) > grace, `${where}: stop_grace_period ${service.stop_grace_period} > SHUTDOWN_GRACE_MS ${grace}`);
        assert.deepEqual(ports(service), [{ hostIp: '127.0.0.1', published: String(SERVICES[name]), target: SERVICES[name] }], where);
        assert.equal(env.API_KEY_FILE, `/run/secrets/${name}_api_key`, where);
        assert.ok(secretNames(service).includes(`${name}_api_key`), `${where}: secret mounted`);
        for (const secret of secretNames(service)) {
          assert.ok(config.secrets?.[secret]?.file, `${where}: secret ${secret} is a file`);
          assert.ok(existsSync(config.secrets[secret].file), `${where}: ${config.secrets[secret].file} exists`);
        }
        assert.equal(config.secrets[`${name}_api_key`].file, path.join(workspaceRoot, 'apps', name, 'dev-secrets/api-key'), where);
        assert.equal(service.environment?.API_KEY, undefined, `${where}: no secret in the environment`);
      }
      for (const caller of Object.keys(config.services)) {
        for (const callee of callsOf(caller)) {
          const env = environment(config.services[caller]);
          const VAR = callee.toUpperCase().replace(/-/g, '_');
          assert.equal(env[`${VAR}_URL`], `http://${callee}:${SERVICES[callee]}`, `${file}: ${caller} -> ${callee}`);
          assert.equal(env[`${VAR}_API_KEY_FILE`], `/run/secrets/${callee}_api_key`);
          assert.ok(secretNames(config.services[caller]).includes(`${callee}_api_key`));
          assert.equal(config.services[caller].depends_on?.[callee]?.condition, 'service_healthy', `${file}: ${caller} waits for a healthy ${callee}`);
        }
      }
    });
  }

  test('host ports, images and secret files follow the environment', async () => {
    const config = await resolved('compose.yaml', {
      ...Object.fromEntries(FACTS.map((f) => [portVariable(f.name), String(f.port + 10000)])),
      IMAGE_PREFIX: 'ghcr.io/acme/shop',
      IMAGE_TAG: 'sha-abc1234',
      ORDERS_API_KEY_FILE: path.join(workspaceRoot, 'apps/notifications/dev-secrets/api-key'),
    });
    for (const [name, port] of Object.entries(SERVICES)) {
      assert.deepEqual(ports(config.services[name]), [{ hostIp: '127.0.0.1', published: String(port + 10000), target: port }]);
      assert.equal(config.services[name].image, `ghcr.io/acme/shop/${name}:sha-abc1234`);
    }
    assert.equal(config.secrets.orders_api_key.file, path.join(workspaceRoot, 'apps/notifications/dev-secrets/api-key'));
    assert.deepEqual(buildableServices(config), []);
  });
});

describe('each service is defined once', () => {
  const read = (file) => parseYaml(readFileSync(path.join(workspaceRoot, file), 'utf8'));

  for (const { name, root, calls = [] } of FACTS) {
    test(`${root}/compose.yaml defines ${name} alone on the shared hardening and includes exactly what it calls`, () => {
      const doc = read(`${root}/compose.yaml`);
      assert.deepEqual(Object.keys(doc.services), [name]);
      const service = doc.services[name];
      assert.deepEqual(service.extends, { file: '../../docker/compose/hardening.yaml', service: 'hardened' });
      for (const key of ['read_only', 'cap_drop', 'security_opt', 'user', 'mem_limit', 'restart', 'tmpfs'])
        assert.equal(service[key], undefined, `${name} repeats ${key}`);
      assert.deepEqual(
        doc.include ?? [],
        calls.map((callee) => `../${callee}/compose.yaml`),
      );
      assert.deepEqual(Object.keys(doc.secrets), [`${name}_api_key`], "a callee's key is declared by the callee's own file");
    });
  }

  test('compose.yaml includes every service file and defines nothing itself', () => {
    const doc = read('compose.yaml');
    assert.deepEqual([...doc.include].sort(), FACTS.map((s) => `${s.root}/compose.yaml`).sort());
    assert.equal(doc.services, undefined);
    assert.equal(doc.version, undefined);
  });

  test('development-only secrets are labelled as such', () => {
    for (const name of Object.keys(SERVICES)) {
      const dir = path.join(workspaceRoot, 'apps', name, 'dev-secrets');
      assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /DEVELOPMENT-ONLY/);
      assert.match(readFileSync(path.join(dir, 'api-key'), 'utf8'), /^dev-only-[\w-]+\n?$/);
    }
  });
});

describe('stack tool', () => {
  for (const [args, message] of [
    [[], /say what to do/],
    [['start'], /unknown command 'start'/],
    [['up', '--what'], /unknown flag --what/],
    [['up', 'down'], /expected one command/],
    [['up', '--project', 'Bad Name'], /invalid --project/],
    [['up', '--timeout', 'soon'], /invalid --timeout/],
    [['up', '--file', 'no/such/compose.yaml'], /compose file not found/],
    [['down', '--no-build'], /only apply to 'up'/],
  ]) {
    test(`rejects ${JSON.stringify(args)} with one line and exit 2`, () => {
      assert.throws(() => parseStackArgs(args, { cwd: workspaceRoot }), message);
      const r = runTool('tools/stack.mjs', args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^stack: error: /);
      assert.doesNotMatch(r.stderr, /\bat .*\.mjs:\d+/);
    });
  }

  test('defaults: root compose.yaml, project secure-ci, build, 180 s', () => {
    assert.deepEqual(parseStackArgs(['up'], { cwd: workspaceRoot }), {
      command: 'up',
      help: false,
      file: path.join(workspaceRoot, 'compose.yaml'),
      project: 'secure-ci',
      build: true,
      timeoutMs: 180_000,
    });
    const o = parseStackArgs(['up', '-f', 'apps/orders/compose.yaml', '-p', 'x-1', '--no-build', '--timeout', '30'], { cwd: workspaceRoot });
    assert.equal(o.file, path.join(workspaceRoot, 'apps/orders/compose.yaml'));
    assert.deepEqual([o.project, o.build, o.timeoutMs], ['x-1', false, 30_000]);
  });

  test('preflight: one actionable line per problem naming what to install and the minimum version; buildx only needed to build', () => {
    const good = {
      client: 'docker',
      serverVersion: '26.1.5+dfsg1',
      buildxVersion: '0.13.1',
      compose: ['docker', 'compose'],
      composeVersion: '2.26.1',
      imageStore: 'containerd',
    };
    assert.deepEqual(preflightProblems(good, { build: true }), []);
    const noEngine = preflightProblems({ ...good, serverVersion: null }, { build: true });
    assert.equal(noEngine.length, 1);
    assert.match(noEngine[0], /no Docker Engine answers .*start dockerd/);
    assert.deepEqual(preflightProblems({ ...good, serverVersion: '20.10.24+dfsg1' }, { build: false }), [
      `Docker Engine 20.10.24+dfsg1 is too old: install Docker Engine >= ${MINIMUM.engine} (https://docs.docker.com/engine/install/)`,
    ]);
    assert.match(preflightProblems({ ...good, buildxVersion: null }, { build: true }).join('\n'), /no buildx plugin: install docker-buildx-plugin >= 0\.13/);
    assert.match(preflightProblems({ ...good, buildxVersion: '0.10.4' }, { build: true }).join('\n'), /buildx 0\.10\.4 is too old/);
    assert.deepEqual(preflightProblems({ ...good, buildxVersion: null }, { build: false }), []);
    assert.match(
      preflightProblems({ ...good, compose: null, composeVersion: null }, { build: false }).join('\n'),
      /no Compose v2: install docker-compose-plugin >= 2\.20/,
    );
    assert.match(preflightProblems({ ...good, composeVersion: 'v2.12.2' }, { build: false }).join('\n'), /Compose v2\.12\.2 is too old/);
    assert.deepEqual(preflightProblems({ ...good, composeVersion: 'v2.29.1' }, { build: false }), []);
    assert.match(preflightProblems({ client: null }, { build: true }).join('\n'), /no docker client found: install Docker Engine >= 25/);
  });

  test('health verdicts: healthy, waiting, and the failures not worth waiting for', () => {
    const c = (over) => ({
      service: 'orders',
      status: 'running',
      health: 'healthy',
      restartCount: 0,
      exitCode: 0,
      oomKilled: false,
      lastProbe: '',
      ports: [],
      ...over,
    });
    assert.equal(verdict('orders', [c()]).state, 'healthy');
    assert.equal(verdict('orders', []).state, 'pending');
    assert.equal(verdict('orders', [c({ health: 'starting' })]).state, 'pending');
    assert.equal(verdict('orders', [c({ health: null })]).state, 'healthy');
    assert.match(verdict('orders', [c({ health: 'unhealthy', lastProbe: 'exit 1' })]).detail, /unhealthy \(last probe: exit 1\)/);
    assert.match(verdict('orders', [c({ status: 'exited', exitCode: 78 })]).detail, /exited with code 78/);
    assert.match(verdict('orders', [c({ status: 'restarting', exitCode: 78, restartCount: 3 })]).detail, /keeps restarting \(last exit code 78/);
    assert.equal(verdict('orders', [c({ status: 'running', health: 'starting', restartCount: 2 })]).state, 'failed');
    assert.equal(verdict('orders', [c({ restartCount: 5 })]).state, 'healthy');
    assert.match(verdict('orders', [c({ status: 'exited', oomKilled: true, exitCode: 137 })]).detail, /memory limit/);
  });

  test('reporting: loopback URL, a curl that reads the key from its file (never prints it)', async () => {
    assert.equal(serviceUrl({ ports: [{ containerPort: 3002, hostIp: '127.0.0.1', hostPort: 13002 }] }), 'http://127.0.0.1:13002');
    assert.equal(serviceUrl({ ports: [] }), null);
    const config = await resolved('compose.yaml');
    const keyFile = apiKeyFile(config, 'orders');
    assert.equal(path.resolve(keyFile), path.join(workspaceRoot, 'apps/orders/dev-secrets/api-key'));
    const curl = sampleCurl('orders', 'http://127.0.0.1:3002', keyFile);
    assert.match(
      curl,
      /^curl -sS -X POST -H "Authorization: Bearer \$\(cat '[^']*apps\/orders\/dev-secrets\/api-key'\)" -H 'content-type: application\/json' -d '\{"productId":"p-1","quantity":2\}' http:\/\/127\.0\.0\.1:3002\/orders$/,
    );
    assert.doesNotMatch(curl, /NOT-A-REAL-SECRET/);
    assert.equal(sampleCurl('catalog', 'http://127.0.0.1:3001', apiKeyFile(config, 'catalog')), 'curl -sS http://127.0.0.1:3001/products');
    assert.equal(sampleCurl('other', 'http://127.0.0.1:9'), 'curl -sS http://127.0.0.1:9/health');
  });

  test('secret files must exist and be readable by the container user (compose mounts them as they are)', async () => {
    const config = await resolved('compose.yaml');
    assert.deepEqual(secretFileProblems(config), [], 'the committed dev-secrets are readable by 65532');
    const files = {
      '/k/open': { uid: 0, gid: 0, mode: 0o100644 },
      '/k/private': { uid: 1000, gid: 1000, mode: 0o100600 },
      '/k/group': { uid: 0, gid: 65532, mode: 0o100640 },
    };
    const stat = (file) => {
      if (!files[file]) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return files[file];
    };
    const fake = (file) => ({ services: { catalog: { user: '65532:65532', secrets: [{ source: 'k' }] } }, secrets: { k: { file } } });
    assert.deepEqual(secretFileProblems(fake('/k/open'), { stat }), []);
    assert.deepEqual(secretFileProblems(fake('/k/group'), { stat }), []);
    assert.match(
      secretFileProblems(fake('/k/private'), { stat })[0],
      /^secret k of catalog: \/k\/private \(mode 600\) is not readable by the container user 65532:65532: chmod o\+r/,
    );
    assert.match(secretFileProblems(fake('/k/none'), { stat })[0], /cannot read \/k\/none \(ENOENT\)/);
  });
});
