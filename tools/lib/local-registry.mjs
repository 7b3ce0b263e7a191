// A real OCI registry on 127.0.0.1 for push/pull tests: Debian's docker-registry (distribution 2.x), no auth,
// throwaway storage. Docker treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP works.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startLocalRegistry({ binary = process.env.DOCKER_REGISTRY_BIN || 'docker-registry' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'local-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${path.join(dir, 'data')}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'),
  );
  const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const spawnError = new Promise((resolve) => child.once('error', resolve));
  const host = `127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const failed = await Promise.race([spawnError, sleep(100).then(() => null)]);
    if (failed) throw new Error(`cannot start ${binary}: ${failed.message} (apt-get install docker-registry)`);
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (attempt > 100 || child.exitCode !== null) {
      child.kill();
      throw new Error(`local registry did not start on ${host}: ${stderr.slice(-300)}`);
    }
  }
  return {
    host,
    /** Tags of a repository, from the registry's own API. */
    async tags(repository) {
      const response = await fetch(`http://${host}/v2/${repository}/tags/list`);
      return response.ok ? ((await response.json()).tags ?? []) : [];
    },
    async stop() {
      child.kill();
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
