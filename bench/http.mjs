#!/usr/bin/env node
// HTTP benchmark (issue #11): the services built on the kit against the same framework set up the standard careful
// way (pino request logging + helmet, nothing else; bench/standard/), interleaved in one run, as ratios. Also process
// start to the first 200 on /health/ready, idle RSS of each service image run with the locked-down flags, and each
// image's size against a conventional single-stage image of the same service built in this run.
// Goals: throughput >= 0.90x the standard setup on every endpoint, start <= 1 s, idle RSS <= 60 MB.
//
// Usage: node bench/http.mjs [--duration S] [--rounds N] [--connections N] [--skip-docker] [--json FILE]
// Needs `npx nx run-many -t build` (done here) and, unless --skip-docker, the images (npx nx run-many -t docker-build).
import { unpackedSize } from './image-size.mjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { detectDocker, docker } from '../tools/lib/docker-engine.mjs';
import { $, lastLine, retry, sleep } from '../tools/lib/process.mjs';
import { builtImage } from '../tools/test/support/image-inspection.mjs';
import { runMain } from '../tools/lib/cli.mjs';
import { workspaceRoot } from '../tools/lib/workspace.mjs';
import { offlineBaseArgs, upstreamRefs } from '../tools/lib/base-images.mjs';
import { imagePrefix } from '../tools/lib/defaults.cjs';
import { listServices } from '../tools/lib/services.mjs';

const MB = 1_000_000;
const GOALS = { ratio: 0.9, startMs: 1000, rssMB: 60 };
// Every service and the port it listens on, from its apps/<name>/project.json (metadata.port).
const SERVICES = Object.fromEntries(listServices().map((s) => [s.name, s.port]));
// What each one calls: an idle container gets an unreachable URL for each (it starts, only its readiness fails).
const CALLS = Object.fromEntries(listServices().map((s) => [s.name, s.calls]));
// Ports on 127.0.0.1 only, away from the stack's (the services' metadata.port).
const PORT = { catalog: 4111, orders: 4112, fastify: 4113, express: 4114, start: 4115 };
const ENDPOINTS = [
  { name: 'fastify /health/ready', kit: 'catalog', standard: 'fastify', path: '/health/ready' },
  { name: 'fastify /products', kit: 'catalog', standard: 'fastify', path: '/products' },
  { name: 'express /health/live', kit: 'orders', standard: 'express', path: '/health/live' },
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const version = (pkg) => JSON.parse(readFileSync(path.join(workspaceRoot, 'node_modules', pkg, 'package.json'), 'utf8')).version;

function getStatus(port, pathname) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

/** Polls every 5 ms (the start-time bench measures with it): about `timeoutMs`, then one line. */
async function waitFor200(port, pathname, timeoutMs = 15_000) {
  await retry(Math.ceil(timeoutMs / 5), '5ms', async () => {
    if ((await getStatus(port, pathname)) !== 200) throw new Error('not yet');
  }).catch(() => {
    throw new Error(`nothing answered 200 on 127.0.0.1:${port}${pathname} within ${timeoutMs} ms`);
  });
}

/** A server as a child process; logs go to /dev/null for kit and baseline alike (pino still formats every line). */
function startServer(script, env) {
  // `exec`: the server is the process zx starts (its pid is the one whose CPU time is read), not a shell around it
  const child = $({
    cwd: workspaceRoot,
    env: { PATH: process.env.PATH, SHLVL: '1', NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    nothrow: true,
  })`exec ${process.execPath} ${script}`;
  let stopping = false;
  child.then((output) => {
    if (output.exitCode && !stopping) process.stderr.write(`bench: ${path.basename(script)} exited ${output.exitCode}: ${lastLine(output)}\n`);
  });
  return {
    child,
    /** Kills the server (SIGKILL) and resolves once it has exited. */
    stop: () => {
      stopping = true;
      child.kill('SIGKILL');
      return child;
    },
  };
}

const dist = (service) => path.join(workspaceRoot, 'dist/apps', service, 'main.js');

/** CPU seconds (user + system) a process has used, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in USER_HZ ticks (100 on Linux)
  } catch {
    return null;
  }
}

/**
 * req/s, and the server's CPU time per request: on a shared machine the second is steadier (a busy neighbour
 * lowers req/s, much less the CPU each request costs).
 */
async function load(server, port, pathname, seconds, connections) {
  const before = cpuSeconds(server.child.pid);
  const result = await autocannon({ url: `http://127.0.0.1:${port}${pathname}`, connections, duration: seconds, pipelining: 1 });
  const after = cpuSeconds(server.child.pid);
  if (result.non2xx || result.errors) throw new Error(`${pathname} on :${port}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, cpuUs: before === null || after === null ? null : ((after - before) / result.requests.total) * 1e6 };
}

/** Kit and standard servers up at once; each endpoint measured in alternating order, `rounds` times each side. */
async function throughput({ seconds, rounds, connections }) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-http-'));
  const servers = [];
  const byPort = {};
  try {
    servers.push((byPort[PORT.catalog] = startServer(dist('catalog'), { PORT: String(PORT.catalog) })));
    servers.push((byPort[PORT.orders] = startServer(dist('orders'), { PORT: String(PORT.orders), CATALOG_URL: `http://127.0.0.1:${PORT.catalog}` })));
    await waitFor200(PORT.catalog, '/health/ready');
    // The baseline serves exactly the catalog's products.
    const productsFile = path.join(tmp, 'products.json');
    writeFileSync(productsFile, JSON.stringify((await (await fetch(`http://127.0.0.1:${PORT.catalog}/products`)).json()).items));
    servers.push(
      (byPort[PORT.fastify] = startServer(path.join(workspaceRoot, 'bench/standard/fastify.mjs'), { PORT: String(PORT.fastify), PRODUCTS_FILE: productsFile })),
    );
    servers.push((byPort[PORT.express] = startServer(path.join(workspaceRoot, 'bench/standard/express.mjs'), { PORT: String(PORT.express) })));
    for (const [port, p] of [
      [PORT.orders, '/health/live'],
      [PORT.fastify, '/health/ready'],
      [PORT.express, '/health/live'],
    ])
      await waitFor200(port, p);

    const rows = [];
    for (const endpoint of ENDPOINTS) {
      const kitPort = PORT[endpoint.kit];
      const stdPort = PORT[endpoint.standard];
      await load(byPort[kitPort], kitPort, endpoint.path, 1, connections); // warm-up (JIT), not counted
      await load(byPort[stdPort], stdPort, endpoint.path, 1, connections);
      const kit = [];
      const standard = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate who goes first, so neither side always gets the cooler (or noisier) half of the machine.
        const order = round % 2 ? ['standard', 'kit'] : ['kit', 'standard'];
        for (const side of order) {
          const port = side === 'kit' ? kitPort : stdPort;
          (side === 'kit' ? kit : standard).push(await load(byPort[port], port, endpoint.path, seconds, connections));
        }
      }
      const rps = (runs) => median(runs.map((r) => r.rps));
      const cpu = (runs) => (runs.every((r) => r.cpuUs !== null) ? median(runs.map((r) => r.cpuUs)) : null);
      rows.push({
        endpoint: endpoint.name,
        kitRps: rps(kit),
        standardRps: rps(standard),
        ratio: rps(kit) / rps(standard),
        kitCpuUsPerRequest: cpu(kit),
        standardCpuUsPerRequest: cpu(standard),
        kit,
        standard,
      });
    }
    return rows;
  } finally {
    for (const server of servers) server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Process start (spawn) to the first 200 on /health/ready, median of `runs`, kit catalog and the fastify baseline. */
async function startTimes(runs) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
  const productsFile = path.join(tmp, 'products.json');
  writeFileSync(productsFile, '[]');
  const measure = async (script, env) => {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const server = startServer(script, { PORT: String(PORT.start), ...env });
      try {
        await waitFor200(PORT.start, '/health/ready');
        times.push(performance.now() - started);
      } finally {
        await server.stop();
      }
    }
    return median(times);
  };
  try {
    return {
      kitMs: await measure(dist('catalog'), {}),
      standardMs: await measure(path.join(workspaceRoot, 'bench/standard/fastify.mjs'), { PRODUCTS_FILE: productsFile }),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const prefix = () => imagePrefix();

/**
 * Memory of an idle container, three ways: the cgroup's usage as `docker stats` shows it (what the container's
 * memory limit acts on: the goal is judged on it), and from /proc on this host the node process's VmRSS and its
 * private (anonymous, dirty) part. VmRSS also counts the clean pages of the Node.js binary mapped from the image,
 * which are shared, not the service's own.
 */
async function containerMemory(name) {
  const usage = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]);
  const [value, unit] = /([\d.]+)\s*([KMG]i?B)/.exec(usage).slice(1);
  const scale = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, kB: 1e3, MB: 1e6, GB: 1e9 }[unit] ?? 1;
  const out = { cgroupBytes: Number(value) * scale, rssBytes: null, privateBytes: null };
  const pid = await docker(['inspect', '--format', '{{.State.Pid}}', name]);
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)[1]) * 1024;
    out.rssBytes = kb('Rss');
    out.privateBytes = kb('Private_Dirty');
  } catch {
    // not on the engine's host (remote or VM engine): the cgroup figure only
  }
  return out;
}

/** Each service image run as compose runs it (read-only, no capabilities, non-root, 256 MB), idle after a warm-up. */
async function idleRss() {
  const rows = [];
  let port = 4121;
  for (const [service, servicePort] of Object.entries(SERVICES)) {
    const name = `${prefix().replace(/[^a-z0-9_.-]/gi, '-')}-bench-rss-${service}`;
    const hostPort = port++;
    await docker(['rm', '-f', name], { reject: false });
    await docker([
      'run',
      '-d',
      '--name',
      name,
      '--read-only',
      '--tmpfs',
      '/tmp:rw,noexec,nosuid,size=16m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      '--user',
      '65532:65532',
      '--memory',
      '256m',
      '--pids-limit',
      '128',
      '-p',
      `127.0.0.1:${hostPort}:${servicePort}`,
      ...CALLS[service].flatMap((callee) => ['-e', `${callee.toUpperCase().replace(/-/g, '_')}_URL=http://127.0.0.1:9`]),
      builtImage(service).tags[0],
    ]);
    try {
      await waitFor200(hostPort, '/health/live', 30_000);
      for (let i = 0; i < 200; i++) await getStatus(hostPort, '/health/live'); // warm, then idle
      await sleep(2000);
      rows.push({ service, ...(await containerMemory(name)) });
    } finally {
      await docker(['rm', '-f', name], { reject: false });
    }
  }
  return rows;
}

/** A conventional single-stage image of each service (Node image + dist + npm ci --omit=dev), built in this run. */
async function imageSizes() {
  const nodeRef = offlineBaseArgs().NODE_IMAGE ?? upstreamRefs().NODE_IMAGE;
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const rows = [];
  for (const service of Object.keys(SERVICES)) {
    const conventional = `${prefix()}/bench-conventional-${service}:latest`;
    const secret = ca ? ['--secret', `id=npm_ca,src=${ca}`] : [];
    const build = ['buildx', 'build', '--load'];
    await docker(
      [
        ...build,
        '-q',
        '-f',
        'bench/conventional.Dockerfile',
        '--build-arg',
        `NODE_IMAGE=${nodeRef}`,
        '--build-arg',
        `PROJECT=${service}`,
        ...secret,
        '-t',
        conventional,
        '.',
      ],
      { cwd: workspaceRoot },
    );
    const kit = await unpackedSize(builtImage(service).tags[0]);
    const plain = await unpackedSize(conventional);
    rows.push({ service, kitBytes: kit, conventionalBytes: plain, ratio: kit / plain, conventional });
  }
  return { nodeRef, rows };
}

async function machine() {
  const toolchain = await detectDocker().catch(() => ({}));
  return {
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGB: Math.round(os.totalmem() / 1e9),
    node: process.version,
    fastify: version('fastify'),
    express: version('express'),
    pino: version('pino'),
    autocannon: version('autocannon'),
    docker: toolchain.serverVersion ?? null,
    note: 'shared 2-core machine (other jobs may run): compare the ratios, not the absolute figures',
  };
}

runMain(async () => {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      'skip-docker': { type: 'boolean' },
      json: { type: 'string' },
    },
    strict: true,
  });
  const seconds = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  if (![seconds, rounds, connections].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('--duration, --rounds and --connections take positive integers');

  await $({ cwd: workspaceRoot })`npx nx run-many -t build -p ${Object.keys(SERVICES).join(',')} --outputStyle=static`;
  const report = { measuredAt: new Date().toISOString(), machine: await machine() };
  console.log(
    `machine: ${report.machine.cpu}, ${report.machine.memoryGB} GB; node ${report.machine.node}, fastify ${report.machine.fastify}, express ${report.machine.express}, pino ${report.machine.pino}, autocannon ${report.machine.autocannon}${report.machine.docker ? `, Docker ${report.machine.docker}` : ''}`,
  );
  console.log(`(${report.machine.note})`);

  report.throughput = await throughput({ seconds, rounds, connections });
  console.log(`\nthroughput: ${connections} connections, ${rounds} x ${seconds} s per side, interleaved; req/s medians   goal >= ${GOALS.ratio}x`);
  console.log('endpoint                  kit req/s  standard req/s  kit/standard      server CPU us/request kit | standard');
  for (const row of report.throughput) {
    const cpu = row.kitCpuUsPerRequest === null ? '' : `${row.kitCpuUsPerRequest.toFixed(0).padStart(6)} | ${row.standardCpuUsPerRequest.toFixed(0)}`;
    console.log(
      `${row.endpoint.padEnd(24)} ${row.kitRps.toFixed(0).padStart(10)}  ${row.standardRps.toFixed(0).padStart(14)}  ${row.ratio.toFixed(2).padStart(11)}x ${(row.ratio >= GOALS.ratio ? 'ok' : 'MISSED').padEnd(6)}  ${cpu}`,
    );
  }

  report.start = await startTimes(5);
  console.log(
    `\nstart to first 200 on /health/ready (median of 5): kit catalog ${report.start.kitMs.toFixed(0)} ms, standard fastify ${report.start.standardMs.toFixed(0)} ms (${(report.start.kitMs / report.start.standardMs).toFixed(2)}x)   goal <= ${GOALS.startMs} ms: ${report.start.kitMs <= GOALS.startMs ? 'ok' : 'MISSED'}`,
  );

  if (!values['skip-docker']) {
    report.idleRss = await idleRss();
    console.log(`\nidle memory in the container (read-only, cap-drop ALL, no-new-privileges, 65532, 256 MB)   goal <= ${GOALS.rssMB} MB (cgroup)`);
    console.log('service        cgroup (docker stats)  VmRSS (incl. shared node binary)  private dirty');
    const fmt = (bytes) => (bytes === null ? '-' : `${(bytes / MB).toFixed(1)} MB`);
    for (const row of report.idleRss) {
      console.log(
        `${row.service.padEnd(14)} ${fmt(row.cgroupBytes).padStart(9)} ${row.cgroupBytes <= GOALS.rssMB * MB ? 'ok    ' : 'MISSED'}  ${fmt(row.rssBytes).padStart(20)}              ${fmt(row.privateBytes).padStart(9)}`,
      );
    }
    report.images = await imageSizes();
    console.log(`\nimage size against a conventional single-stage image (FROM ${report.images.nodeRef} + dist + npm ci --omit=dev), built in this run`);
    for (const row of report.images.rows)
      console.log(
        `${row.service.padEnd(14)} ${(row.kitBytes / MB).toFixed(1).padStart(6)} MB vs ${(row.conventionalBytes / MB).toFixed(1).padStart(6)} MB  ${row.ratio.toFixed(2)}x`,
      );
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
});
