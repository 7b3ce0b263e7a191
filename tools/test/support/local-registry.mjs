// A real OCI registry on 127.0.0.1 for push/pull tests: Debian's docker-registry (distribution 2.x), no auth,
// throwaway storage. Docker treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP works.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { $, lastLine, which } from '../../lib/process.mjs';
import { freePort, waitForHttp } from './net.mjs';

export async function startLocalRegistry({ binary = process.env.DOCKER_REGISTRY_BIN || 'docker-registry' } = {}) {
  if (!(await which(binary, { nothrow: true }))) throw new Error(`cannot start ${binary}: not found (apt-get install docker-registry)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'local-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${path.join(dir, 'data')}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'),
  );
  const child = $({ nothrow: true })`${binary} serve ${config}`;
  const host = `127.0.0.1:${port}`;
  try {
    await waitForHttp(`http://${host}/v2/`, { child });
  } catch {
    const output = await child; // stopped by waitForHttp
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`local registry did not start on ${host}: ${lastLine(output) || `exit ${output.exitCode}`}`);
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
      await child;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
