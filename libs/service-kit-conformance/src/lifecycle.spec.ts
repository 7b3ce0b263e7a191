import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import { createExpressService } from '@secure-ci/service-kit-express';
import { createFastifyService } from '@secure-ci/service-kit-fastify';
import type { ServiceContext } from '@secure-ci/service-kit';
import type { ServiceHandle } from '@secure-ci/service-kit';
import { deferred, testContext } from './testing/helpers';
import { openConnection } from './testing/raw-http';

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** GET over a real socket; resolves with the reply or rejects with the socket error (e.g. ECONNREFUSED). */
function get(port: number, pathname: string, agent?: http.Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // agent false: a fresh connection (Node's global agent would reuse a pooled keep-alive socket).
    const req = http.get({ host: '127.0.0.1', port, path: pathname, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/**
 * A request made after shutdown began must be refused or answered 503. "Refused" includes
 * ECONNRESET: a connection the kernel accepted just before the listener closed is reset.
 */
const REFUSED_OR_503 = ['ECONNREFUSED', 'ECONNRESET', '503'];

async function refusedOr503(port: number, pathname: string): Promise<string> {
  try {
    const reply = await get(port, pathname);
    return String(reply.status);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}

type Build = (ctx: ServiceContext, slowStarted: () => void, slowGate: Promise<void>) => Promise<ServiceHandle>;

const adapters: Array<[string, Build]> = [
  [
    'express',
    async (ctx, started, gate) =>
      createExpressService(ctx, (app: Express) => {
        app.get('/slow', async (_req, res) => {
          started();
          await gate;
          res.json({ slow: 'done' });
        });
        app.get('/fast', (_req, res) => {
          res.json({ fast: true });
        });
      }),
  ],
  [
    'fastify',
    (ctx, started, gate) =>
      createFastifyService(ctx, (app: FastifyInstance) => {
        app.get('/slow', async () => {
          started();
          await gate;
          return { slow: 'done' };
        });
        app.get('/fast', async () => ({ fast: true }));
      }),
  ],
];

describe.each(adapters)('graceful close, in process (%s)', (_name, build) => {
  it('fails readiness, refuses new work, lets the in-flight request finish and closes keep-alive sockets', async () => {
    const ctx = testContext();
    const started = deferred();
    const gate = deferred();
    const handle = await build(ctx, started.resolve, gate.promise);
    const { port } = await handle.listen({ port: 0, host: '127.0.0.1' });
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect((await get(port, '/health/ready')).status).toBe(200);
      expect((await get(port, '/fast', agent)).status).toBe(200); // leaves an idle keep-alive socket

      const slow = get(port, '/slow', agent);
      await started.promise;

      const closed = handle.close();
      expect(ctx.health.state).toBe('shutting-down');
      expect((await ctx.health.report('ready')).httpStatus).toBe(503);
      expect(REFUSED_OR_503).toContain(await refusedOr503(port, '/fast'));
      expect(REFUSED_OR_503).toContain(await refusedOr503(port, '/health/ready'));

      gate.resolve();
      const reply = await slow;
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toEqual({ slow: 'done' });
      expect(reply.headers.connection).toBe('close');
      await closed; // resolves although the agent keeps sockets alive
      await handle.close(); // idempotent
      expect(await refusedOr503(port, '/fast')).toBe('ECONNREFUSED');
    } finally {
      gate.resolve();
      agent.destroy();
      await handle.close();
    }
  });

  it('closes cleanly when it never listened', async () => {
    const ctx = testContext();
    const handle = await build(ctx, () => undefined, Promise.resolve());
    await handle.close();
    expect(ctx.health.state).toBe('shutting-down');
  });
});

// ---- real signals: the fixture service runs as a child process ----

const workspaceRoot = path.resolve(__dirname, '../../..');
let outDir: string;
let fixture: string;

beforeAll(() => {
  outDir = mkdtempSync(path.join(tmpdir(), 'service-kit-lifecycle-'));
  fixture = path.join(outDir, 'fixture.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'testing/lifecycle-fixture.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    tsconfig: path.join(workspaceRoot, 'tsconfig.base.json'), // resolves the @secure-ci/* paths; npm packages stay external
    outfile: fixture,
    logLevel: 'silent',
  });
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const running = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const proc of running) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  running.clear();
});

interface Child {
  proc: ChildProcessWithoutNullStreams;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  /** Resolves with the first log record that has this msg. */
  waitForLog(msg: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function startFixture(adapter: string, env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, [fixture], {
    env: { PATH: process.env.PATH, NODE_PATH: path.join(workspaceRoot, 'node_modules'), FIXTURE_ADAPTER: adapter, HOST: '127.0.0.1', PORT: '0', ...env },
  });
  running.add(proc);
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; resolve: (r: Record<string, unknown>) => void }> = [];
  let err = '';
  let buffered = '';
  proc.stderr.on('data', (c) => (err += String(c)));
  proc.stdout.on('data', (c) => {
    buffered += String(c);
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const record = JSON.parse(line) as Record<string, unknown>;
      logs.push(record);
      for (const w of waiters.filter((w) => w.msg === record.msg)) w.resolve(record);
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    logs,
    stderr: () => err,
    exited,
    waitForLog: (msg) => {
      const found = logs.find((r) => r.msg === msg);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ msg, resolve });
        void exited.then((code) => reject(new Error(`fixture exited (${code}) before logging "${msg}": ${err}`)));
      });
    },
  };
}

describe.each(['express', 'fastify'])('signals, child process (%s)', (adapter) => {
  it('SIGTERM: readiness fails, new requests are refused or 503, the in-flight request finishes, exit 0', async () => {
    const child = startFixture(adapter);
    const { port } = (await child.waitForLog('listening')) as { port: number };
    expect((await get(port, '/health/ready')).status).toBe(200);

    const agent = new http.Agent({ keepAlive: true });
    const slow = get(port, '/slow', agent);
    slow.catch(() => undefined); // asserted below; avoid an unhandled rejection if an earlier assertion fails
    await child.waitForLog('slow started');

    child.proc.kill('SIGTERM');
    await child.waitForLog('shutting down');
    expect(REFUSED_OR_503).toContain(await refusedOr503(port, '/health/ready'));
    expect(REFUSED_OR_503).toContain(await refusedOr503(port, '/slow'));

    child.proc.stdin.write('release\n');
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ slow: 'done' });
    expect(await child.exited).toBe(0);
    expect(child.logs.map((r) => r.msg)).toContain('shutdown complete');
    agent.destroy();
  });

  it('SIGTERM with idle, never-used and half-open connections open: they close at once, exit 0', async () => {
    const child = startFixture(adapter, { SHUTDOWN_GRACE_MS: '20000' });
    const { port } = (await child.waitForLog('listening')) as { port: number };
    const agent = new http.Agent({ keepAlive: true });
    expect((await get(port, '/health/ready', agent)).status).toBe(200); // an idle keep-alive connection
    const neverUsed = await openConnection(port); // what a load balancer pre-opens
    const halfOpen = await openConnection(port, 'GET /health/ready HTTP/1.1\r\nHost: x\r\n');
    child.proc.kill('SIGTERM');
    // Before the fix these held shutdown until the 20 s deadline and the exit was 1 (the test would time out).
    await Promise.all([neverUsed.closed, halfOpen.closed]);
    expect(await child.exited).toBe(0);
    expect(child.logs.map((r) => r.msg)).toContain('shutdown complete');
    agent.destroy();
  });

  it('a HOST that names no local address: exit 78 with one stderr line, also at LOG_LEVEL=silent', async () => {
    const child = startFixture(adapter, { HOST: 'no-such-host.invalid', LOG_LEVEL: 'silent' });
    expect(await child.exited).toBe(78);
    expect(child.stderr()).toBe('fixture: invalid configuration (1 problem): HOST: cannot listen on "no-such-host.invalid" (ENOTFOUND)\n');
    const invalid = startFixture(adapter, { HOST: 'not a host', LOG_LEVEL: 'silent' });
    expect(await invalid.exited).toBe(78);
    expect(invalid.stderr()).toBe('fixture: invalid configuration (1 problem): HOST: must be an IP address or a host name (got "not a host")\n');
  });

  it('an empty API_KEY_FILE (or /dev/null) is a config error, not "no authentication": exit 78', async () => {
    const empty = path.join(outDir, 'empty-key');
    writeFileSync(empty, '\n');
    for (const file of [empty, '/dev/null']) {
      const child = startFixture(adapter, { API_KEY_FILE: file });
      expect(await child.exited).toBe(78);
      expect(child.stderr()).toMatch(/^fixture: invalid configuration \(1 problem\): API_KEY_FILE: file ".*" is (empty|not a regular file)\n$/);
    }
  });

  it('SHUTDOWN_GRACE_MS: a request that outlives the deadline forces exit 1', async () => {
    const child = startFixture(adapter, { SHUTDOWN_GRACE_MS: '300' });
    const { port } = (await child.waitForLog('listening')) as { port: number };
    const slow = get(port, '/slow').catch((err: NodeJS.ErrnoException) => err.code);
    await child.waitForLog('slow started');
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(1);
    expect(child.logs.map((r) => r.msg)).toContain('graceful shutdown deadline reached, exiting');
    expect(await slow).toBe('ECONNRESET');
  });

  it('a second signal during shutdown forces exit 1', async () => {
    const child = startFixture(adapter);
    const { port } = (await child.waitForLog('listening')) as { port: number };
    const slow = get(port, '/slow').catch((err: NodeJS.ErrnoException) => err.code);
    await child.waitForLog('slow started');
    child.proc.kill('SIGTERM');
    await child.waitForLog('shutting down');
    child.proc.kill('SIGINT');
    expect(await child.exited).toBe(1);
    expect(child.logs.map((r) => r.msg)).toContain('second signal during shutdown, exiting now');
    await slow;
  });

  it('invalid config: exit 78 with one line naming every bad variable, no stack, nothing on stdout', async () => {
    const child = startFixture(adapter, { PORT: 'abc', LOG_LEVEL: 'chatty', API_KEY: 'has space 0123456789' });
    expect(await child.exited).toBe(78);
    const lines = child.stderr().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^fixture: invalid configuration \(3 problems\): /);
    expect(lines[0]).toContain('PORT: must be an integer between 0 and 65535 (got "abc")');
    expect(lines[0]).toContain('LOG_LEVEL: must be one of');
    expect(lines[0]).toContain('API_KEY: must not contain whitespace');
    expect(lines[0]).not.toContain('has space 0123456789');
    expect(lines[0]).not.toMatch(/\n\s+at /);
    expect(child.logs).toEqual([]);
  });
});
