// The compose stack for real (needs the images: run after `npx nx run-many -t docker-build`, as `npm test` does).
// Brought up with tools/stack.mjs under a project name and 127.0.0.1 host ports of its own, so it never touches a
// developer's running `npm start` stack. Then: every container healthy and hardened as configured, a request across
// services, orders' readiness following catalog, graceful stops under load (autocannon), `down` leaving nothing,
// and every apps/<service>/compose.yaml on its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { requireDocker } from '../../lib/docker-engine.mjs';
import { freePort, until } from '../support/net.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { ComposeStack } from '../../lib/stack/compose.mjs';
import { waitHealthy } from '../../lib/stack/health.mjs';
import { listServices, portVariable } from '../../lib/services.mjs';
import { $, streamLines } from '../../lib/process.mjs';
import { runTool } from '../support/run-tool.mjs';

const SERVICES = listServices().map((s) => s.name); // every service the root compose.yaml runs (apps/*/project.json)
const devKey = (service) => readFileSync(path.join(workspaceRoot, 'apps', service, 'dev-secrets/api-key'), 'utf8').trim();
const bearer = (service) => ({ authorization: `Bearer ${devKey(service)}`, 'content-type': 'application/json' });

async function status(url, init) {
  try {
    return (await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) })).status;
  } catch {
    return 0;
  }
}

/** Ports env for a stack: free 127.0.0.1 ports so a developer's stack on 3001-3003 is never in the way. */
async function portsEnv() {
  const ports = {};
  for (const service of SERVICES) ports[service] = await freePort();
  return { ports, env: Object.fromEntries(SERVICES.map((s) => [portVariable(s), String(ports[s])])) };
}

/** Live `docker events` of one container (kill signals, die with exit code), with daemon timestamps. */
function watchEvents(stack, containerId) {
  const events = [];
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const child = $({
    env: stack.env,
    nothrow: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })`${stack.toolchain.client} events --since ${since} --filter ${`container=${containerId}`} --format ${'{{json .}}'}`;
  streamLines(child, {
    echo: false,
    onLine: (line, stream) => {
      if (stream !== 'stdout' || !line.trim()) return;
      const e = JSON.parse(line);
      events.push({ action: e.Action ?? e.status, at: Number(e.timeNano) / 1e6, attributes: e.Actor?.Attributes ?? {} });
    },
  });
  return {
    events,
    first: (action, predicate = () => true) => events.find((e) => e.action === action && predicate(e)),
    close: () => child.kill(),
  };
}

/**
 * autocannon (as a library) with per-request bookkeeping through its client hooks: when each request was written,
 * and how it ended (status code, connection error, or lost: the connection ended without an answer).
 */
function startLoad({ url, method = 'GET', headers, body, connections, overallRate, durationS = 60 }) {
  const records = [];
  const instance = autocannon({
    url,
    method,
    headers,
    body,
    connections,
    overallRate,
    duration: durationS, // an upper bound: each test stops the run as soon as it has what it needs
    timeout: 30,
    setupClient(client) {
      let pending = null;
      const end = (fields) => {
        if (pending) Object.assign(pending, { doneAt: Date.now() }, fields);
        pending = null;
      };
      client.on('request', () => {
        end({ error: 'lost' }); // a new request while one is open: the connection ended without an answer
        pending = { sentAt: Date.now(), doneAt: null, status: null, error: null };
        records.push(pending);
      });
      client.on('response', (statusCode) => end({ status: statusCode }));
      client.on('connError', (error) => end({ error: error.code ?? error.message }));
      client.on('timeout', () => end({ error: 'timeout' }));
    },
  });
  const done = new Promise((resolve) => instance.on('done', resolve));
  return {
    records,
    ok: () => records.filter((r) => r.status >= 200 && r.status < 300).length,
    async stop() {
      instance.stop();
      await done;
    },
  };
}

/** Groups outcomes into a readable tally: {"201": 812, "503": 3, "ECONNREFUSED": 40, ...}. */
function tally(records) {
  const counts = {};
  for (const r of records) {
    const key = r.status ? String(r.status) : (r.error ?? 'unanswered');
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('the whole stack (compose.yaml through tools/stack.mjs)', () => {
  const project = `sci-e2e-${process.pid}`;
  let stack;
  let ports;
  let env;
  let up;
  const url = (service, p = '') => `http://127.0.0.1:${ports[service]}${p}`;
  const container = async (service) => (await stack.containers()).find((c) => c.service === service);
  const stackTool = (...args) => runTool('tools/stack.mjs', [...args, '--project', project], { env: { ...process.env, ...env } });

  before(async () => {
    const toolchain = await requireDocker({ needCompose: true });
    ({ ports, env } = await portsEnv());
    // Orders calls catalog with this timeout; the in-flight test holds catalog for a few seconds.
    env.CATALOG_TIMEOUT_MS = '8000';
    stack = new ComposeStack(toolchain, { file: path.join(workspaceRoot, 'compose.yaml'), project, env });
    // Images come from the images suite (npx nx run-many -t docker-build): --no-build, and a clear error if missing.
    const result = stackTool('up', '--no-build', '--timeout', '180');
    up = { code: result.status, out: `${result.stdout}\n${result.stderr}` };
  });

  after(async () => {
    if (stack) await stack.compose(['down', '--remove-orphans', '--volumes'], { quiet: true });
  });

  test('up exits 0 once every container is healthy, printing each URL and a request to try', async () => {
    assert.equal(up.code, 0, up.out.slice(-4000));
    for (const service of SERVICES) {
      assert.match(up.out, new RegExp(`${service}\\s+http://127\\.0\\.0\\.1:${ports[service]}\\n\\s+try: curl `), `${service} URL printed`);
      const c = await container(service);
      assert.equal(c.health, 'healthy', `${service} is healthy`);
    }
    assert.doesNotMatch(up.out, /NOT-A-REAL-SECRET/, 'the API keys are never printed');
  });

  test('each printed URL answers on 127.0.0.1 (and only there)', async () => {
    for (const service of SERVICES) {
      const res = await fetch(url(service, '/'));
      assert.equal(res.status, 200, service);
      assert.equal((await res.json()).name, service);
      assert.equal(await status(url(service, '/health')), 200, `${service} /health`);
      const c = await container(service);
      assert.ok(c.ports.length > 0 && c.ports.every((p) => p.hostIp === '127.0.0.1'), `${service} publishes on 127.0.0.1 only: ${JSON.stringify(c.ports)}`);
    }
  });

  test('the containers run with the hardening the compose files ask for', async () => {
    for (const service of SERVICES) {
      const { raw } = await container(service);
      const h = raw.HostConfig;
      assert.equal(h.ReadonlyRootfs, true, service);
      assert.deepEqual(h.CapDrop, ['ALL'], service);
      assert.ok(h.SecurityOpt.includes('no-new-privileges:true'), service);
      assert.equal(raw.Config.User, '65532:65532', service);
      assert.ok(h.Memory > 0 && h.NanoCpus > 0 && h.PidsLimit > 0, `${service} limits`);
      assert.equal(h.RestartPolicy.Name, 'unless-stopped', service);
      assert.ok(Object.keys(h.Tmpfs ?? {}).includes('/tmp'), service);
      assert.ok(raw.Config.Healthcheck?.Interval > 0, `${service} healthcheck timing`);
      // The secret is a file mounted from the host, never an environment value.
      assert.ok(raw.Config.Env.includes(`API_KEY_FILE=/run/secrets/${service}_api_key`), service);
      assert.ok(!raw.Config.Env.some((e) => e.startsWith('API_KEY=')), service);
      assert.ok(
        raw.Mounts.some((m) => m.Destination === `/run/secrets/${service}_api_key`),
        service,
      );
    }
  });

  test('a request across services: POST /orders prices a catalog product (201), and needs the API key', async () => {
    const product = await (await fetch(url('catalog', '/products/p-1'))).json();
    assert.equal(product.id, 'p-1');
    const res = await fetch(url('orders', '/orders'), { method: 'POST', headers: bearer('orders'), body: JSON.stringify({ productId: 'p-1', quantity: 3 }) });
    const order = await res.json();
    assert.equal(res.status, 201, JSON.stringify(order));
    assert.equal(order.productId, 'p-1');
    assert.equal(order.totalCents, product.priceCents * 3);
    const unauthenticated = await fetch(url('orders', '/orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'p-1', quantity: 1 }),
    });
    assert.equal(unauthenticated.status, 401);
  });

  test("stopping catalog makes orders' readiness fail (503); starting it again brings it back", async () => {
    assert.equal(await status(url('orders', '/health/ready')), 200);
    const stopped = await stack.compose(['stop', 'catalog'], { quiet: true });
    assert.equal(stopped.exitCode, 0, stopped.output);
    await until(async () => (await status(url('orders', '/health/ready'))) === 503, { what: 'orders /health/ready to answer 503 without catalog' });
    const body = await (await fetch(url('orders', '/health/ready'))).json();
    assert.equal(body.status, 'fail');
    assert.ok(JSON.stringify(body.checks).includes('catalog'), JSON.stringify(body));
    const started = await stack.compose(['start', 'catalog'], { quiet: true });
    assert.equal(started.exitCode, 0, started.output);
    await until(async () => (await status(url('orders', '/health/ready'))) === 200, { what: 'orders /health/ready to recover' });
    await until(async () => (await container('orders')).health === 'healthy', { timeoutMs: 90_000, what: 'the orders container to be healthy again' });
  });

  test('compose stop orders under load: requests held in flight across SIGTERM all complete (201), exit 0 within the grace period', async (t) => {
    // Orders' requests wait on catalog; pausing catalog keeps every connection's request in flight inside orders while
    // SIGTERM arrives, so the test measures real in-flight work, not requests that happened to finish first.
    const orders = await container('orders');
    const catalog = await container('catalog');
    const graceMs = Number(orders.raw.Config.Env.find((e) => e.startsWith('SHUTDOWN_GRACE_MS=')).split('=')[1]);
    const stopTimeoutMs = orders.raw.Config.StopTimeout * 1000;
    const events = watchEvents(stack, orders.id);
    const load = startLoad({
      url: url('orders', '/orders'),
      method: 'POST',
      headers: bearer('orders'),
      body: JSON.stringify({ productId: 'p-2', quantity: 1 }),
      connections: 8,
      overallRate: 200,
    });
    let stopIssuedAt;
    try {
      await until(() => load.ok() >= 100, { what: '100 orders answered before the stop' });
      await stack.docker(['pause', catalog.id]);
      await sleep(1000); // every connection now has a request waiting on catalog
      stopIssuedAt = Date.now();
      const stopping = stack.compose(['stop', 'orders'], { quiet: true });
      await until(() => events.first('kill', (e) => e.attributes.signal === '15'), { what: 'SIGTERM to orders' });
      await sleep(500); // orders is draining now: stopped accepting, in-flight requests still waiting on catalog
      await stack.docker(['unpause', catalog.id]);
      const stopped = await stopping;
      assert.equal(stopped.exitCode, 0, stopped.output);
      await until(() => events.first('die'), { what: 'orders to die' });
    } finally {
      await stack.docker(['unpause', catalog.id], { reject: false });
      await load.stop();
      events.close();
    }
    const killAt = events.first('kill', (e) => e.attributes.signal === '15').at;
    const die = events.first('die');
    const sentBefore = load.records.filter((r) => r.sentAt < stopIssuedAt);
    const inFlightAtSigterm = sentBefore.filter((r) => r.doneAt === null || r.doneAt > killAt);
    const sentAfter = load.records.filter((r) => r.sentAt >= stopIssuedAt);
    t.diagnostic(`sent before the stop: ${JSON.stringify(tally(sentBefore))}; of those in flight at SIGTERM: ${JSON.stringify(tally(inFlightAtSigterm))}`);
    t.diagnostic(`sent after the stop began (refused/closed is expected): ${JSON.stringify(tally(sentAfter))}`);
    t.diagnostic(`SIGTERM -> exit: ${Math.round(die.at - killAt)} ms (SHUTDOWN_GRACE_MS ${graceMs}, stop_grace_period ${stopTimeoutMs} ms)`);

    assert.ok(inFlightAtSigterm.length > 0, 'requests were in flight when SIGTERM arrived (else the measurement says nothing)');
    assert.deepEqual(tally(sentBefore), { 201: sentBefore.length }, 'every request sent before the stop completed with 201: no errors, no other status');
    assert.equal(die.attributes.exitCode, '0', 'orders exited 0');
    assert.equal((await stack.docker(['inspect', '--format', '{{.State.ExitCode}}', orders.id])).stdout.trim(), '0');
    assert.ok(!events.first('kill', (e) => e.attributes.signal === '9' || e.attributes.signal === 'SIGKILL'), 'never SIGKILLed');
    assert.ok(die.at - killAt < stopTimeoutMs, 'exited within its stop_grace_period');
    // Nothing sent after the stop began got a server error other than the shutdown's own 503.
    assert.deepEqual(
      sentAfter.filter((r) => r.status >= 500 && r.status !== 503),
      [],
    );
  });

  test('compose stop notifications under load: every request sent before the stop completes 2xx, exit 0 within the grace period', async (t) => {
    const notifications = await container('notifications');
    const stopTimeoutMs = notifications.raw.Config.StopTimeout * 1000;
    const events = watchEvents(stack, notifications.id);
    const load = startLoad({
      url: url('notifications', '/notifications'),
      method: 'POST',
      headers: bearer('notifications'),
      body: JSON.stringify({ recipient: 'load@example.com', channel: 'email', message: 'in flight' }),
      connections: 16,
      overallRate: 400, // bounded: the inbox holds 10 000
    });
    let stopIssuedAt;
    try {
      await until(() => load.ok() >= 300, { what: '300 notifications answered before the stop' });
      stopIssuedAt = Date.now();
      const stopped = await stack.compose(['stop', 'notifications'], { quiet: true });
      assert.equal(stopped.exitCode, 0, stopped.output);
      await until(() => events.first('die'), { what: 'notifications to die' });
    } finally {
      await load.stop();
      events.close();
    }
    const killAt = events.first('kill', (e) => e.attributes.signal === '15')?.at;
    const die = events.first('die');
    const sentBefore = load.records.filter((r) => r.sentAt < stopIssuedAt);
    const sentAfter = load.records.filter((r) => r.sentAt >= stopIssuedAt);
    t.diagnostic(`sent before the stop: ${JSON.stringify(tally(sentBefore))}; after: ${JSON.stringify(tally(sentAfter))}`);
    assert.ok(killAt, 'compose stop sent SIGTERM');
    assert.deepEqual(tally(sentBefore), { 201: sentBefore.length }, 'every request sent before the stop completed with 201');
    assert.equal(die.attributes.exitCode, '0');
    assert.ok(!events.first('kill', (e) => e.attributes.signal === '9' || e.attributes.signal === 'SIGKILL'), 'never SIGKILLed');
    assert.ok(die.at - killAt < stopTimeoutMs, 'exited within its stop_grace_period');
    assert.deepEqual(
      sentAfter.filter((r) => r.status >= 500 && r.status !== 503),
      [],
    );
  });

  test('down leaves no containers, networks or volumes of the project', async () => {
    const result = stackTool('down');
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /is down: no containers, networks or volumes left/);
    assert.deepEqual(await stack.leftovers(), { containers: [], networks: [], volumes: [] });
  });
});

describe('each apps/<service>/compose.yaml on its own (docker compose -f ... up -d)', () => {
  for (const [service, expected] of [
    ['catalog', ['catalog']],
    ['orders', ['catalog', 'orders']],
    ['notifications', ['notifications']],
  ]) {
    test(`${service}: up -d starts ${expected.join(' + ')}, healthy and answering; down removes everything`, async () => {
      const toolchain = await requireDocker({ needCompose: true });
      const { ports, env } = await portsEnv();
      const stack = new ComposeStack(toolchain, {
        file: path.join(workspaceRoot, 'apps', service, 'compose.yaml'),
        project: `sci-solo-${service}-${process.pid}`,
        env,
      });
      try {
        const up = await stack.compose(['up', '--detach'], { quiet: true });
        assert.equal(up.exitCode, 0, up.output);
        const health = await waitHealthy(stack, expected, { timeoutMs: 120_000 });
        assert.ok(health.ok, health.reason);
        assert.deepEqual([...new Set((await stack.containers()).map((c) => c.service))].sort(), expected);
        for (const s of expected) assert.equal(await status(`http://127.0.0.1:${ports[s]}/health/ready`), 200, s);
        if (service === 'orders') {
          const res = await fetch(`http://127.0.0.1:${ports.orders}/orders`, {
            method: 'POST',
            headers: bearer('orders'),
            body: JSON.stringify({ productId: 'p-3', quantity: 1 }),
          });
          assert.equal(res.status, 201);
        }
      } finally {
        const down = await stack.compose(['down', '--remove-orphans', '--volumes'], { quiet: true });
        assert.equal(down.exitCode, 0, down.output);
      }
      assert.deepEqual(await stack.leftovers(), { containers: [], networks: [], volumes: [] });
    });
  }
});
