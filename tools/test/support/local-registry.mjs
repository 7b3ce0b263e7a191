// A real OCI registry on 127.0.0.1 for push/pull tests: Debian's docker-registry (distribution 2.x), no auth,
// throwaway storage. Docker treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP works.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from '../../lib/process.mjs';
import { freePort, startServer } from './net.mjs';

export async function startLocalRegistry({ binary = process.env.DOCKER_REGISTRY_BIN || 'docker-registry' } = {}) {
  if (!(await which(binary, { nothrow: true }))) throw new Error(`cannot start ${binary}: not found (apt-get install docker-registry)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'local-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const host = `127.0.0.1:${port}`;
  const server = await startServer(binary, ['serve', config], { readyUrl: `http://${host}/v2/`, what: `local registry on ${host}`, dir });
  return {
    host,
    /** Tags of a repository, from the registry's own API. */
    async tags(repository) {
      const response = await fetch(`http://${host}/v2/${repository}/tags/list`);
      return response.ok ? ((await response.json()).tags ?? []) : [];
    },
    stop: server.stop,
  };
}
