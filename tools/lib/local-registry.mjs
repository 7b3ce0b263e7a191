// A real OCI registry on 127.0.0.1 for push/pull tests: Debian's docker-registry (distribution 2.x), no auth,
// throwaway storage. Docker treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP works.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForHttp } from './net.mjs';

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
  const host = `127.0.0.1:${port}`;
  const spawnFailure = new Promise((resolve) => child.once('error', resolve));
  const ready = waitForHttp(`http://${host}/v2/`, { child, describe: () => `local registry did not start on ${host}: ${stderr.slice(-300)}` });
  ready.catch(() => {}); // if spawning fails, that error is the one reported
  await Promise.race([
    ready,
    spawnFailure.then((error) => {
      throw new Error(`cannot start ${binary}: ${error.message} (apt-get install docker-registry)`);
    }),
  ]);
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
