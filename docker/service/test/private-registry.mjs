// A real private npm registry for the image tests: Verdaccio on 127.0.0.1, proxying the public registry, that
// refuses anonymous reads. The token it issues is what the image build must consume as the `npm_token` secret.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServer } from '../../../tools/test/support/net.mjs';
import { workspaceRoot } from '../../../tools/lib/workspace.mjs';

export async function startPrivateRegistry({ upstream = 'https://registry.npmjs.org/' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'private-registry-'));
  const port = await freePort();
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${path.join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(dir, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks:',
      '  npmjs:',
      `    url: ${upstream}`,
      '    timeout: 60s',
      'packages:',
      "  '**':",
      '    access: $authenticated',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: json, level: warn }',
      '',
    ].join('\n'),
  );
  const bin = path.join(workspaceRoot, 'node_modules/verdaccio/bin/verdaccio');
  const url = `http://127.0.0.1:${port}/`;
  const server = await startServer(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
    readyUrl: `${url}-/ping`,
    what: `private registry on ${url}`,
    dir,
  });
  const response = await fetch(`${url}-/user/org.couchdb.user:canary`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'canary', password: `pw-${process.pid}-${Date.now()}` }),
  });
  const { token } = await response.json();
  if (!token) throw new Error(`private registry issued no token (HTTP ${response.status})`);
  return {
    url,
    token,
    /** Package names the registry has fetched through its uplink (proof that an install went through it). */
    storedPackages: () => {
      try {
        return readdirSync(path.join(dir, 'storage')).flatMap((name) =>
          name.startsWith('@') ? readdirSync(path.join(dir, 'storage', name)).map((child) => `${name}/${child}`) : [name],
        );
      } catch {
        return [];
      }
    },
    stop: server.stop,
  };
}
