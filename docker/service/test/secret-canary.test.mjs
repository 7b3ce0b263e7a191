// The npm_token secret is really consumed by the build (a private registry that refuses anonymous reads), and its
// value occurs nowhere in the result: not in any layer, not in the image config, not in the history, not in the log.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../../tools/lib/docker-engine.mjs';
import { searchSavedImage } from '../../../tools/test/support/image-inspection.mjs';
import { runTool } from '../../../tools/test/support/run-tool.mjs';
import { startPrivateRegistry } from './private-registry.mjs';

const PROJECT = 'catalog';
const IMAGE = 'secure-ci-canary/catalog';

function dockerBuild(args, env = {}) {
  const result = runTool('tools/docker-build.mjs', [PROJECT, ...args], { env: { ...process.env, ...env } });
  return { code: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe('npm_token build secret (canary)', () => {
  let registry;
  let tmp;
  let withSecret;
  let buildArgs;
  before(async () => {
    await requireDocker();
    registry = await startPrivateRegistry();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'canary-'));
    // --no-cache: the install step really runs. The registry's URL alone is no fresh cache key: its port can recur,
    // and then BuildKit replays an earlier run's install (seen once: both builds passed, nothing went through here).
    buildArgs = ['--build-arg', `NPM_REGISTRY=${registry.url}`, '--build-arg', 'PORT=3001', '--network', 'host', '--no-cache', '--image', IMAGE];
  });
  after(async () => {
    await registry?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    await docker(['image', 'rm', '-f', `${IMAGE}:local`], { reject: false }).catch(() => {});
  });

  test('without the secret, the build fails with a clear message', () => {
    const result = dockerBuild([...buildArgs, '--record', path.join(tmp, 'no-secret.json')], { NPM_TOKEN: '' });
    assert.notEqual(result.code, 0, 'build must fail against an authenticated registry without npm_token');
    assert.match(result.output, /no BuildKit secret 'npm_token' was given/);
  });

  test('with the secret, dependencies are installed through the private registry', () => {
    withSecret = dockerBuild(
      [...buildArgs, '--secret', 'id=npm_token,env=CANARY_NPM_TOKEN', '--record', path.join(tmp, 'canary.json'), '--log', path.join(tmp, 'build.log')],
      {
        CANARY_NPM_TOKEN: registry.token,
      },
    );
    assert.equal(withSecret.code, 0, withSecret.output.slice(-2000));
    assert.ok(registry.storedPackages().includes('fastify'), 'the install went through the private registry');
  });

  test('the token occurs 0 times in every layer, the config and the history', async () => {
    assert.equal(withSecret?.code, 0, 'needs the canary image');
    const record = JSON.parse(readFileSync(path.join(tmp, 'canary.json'), 'utf8'));
    const saved = await searchSavedImage(record.imageId, registry.token);
    assert.ok(saved.entries >= 3, `searched ${saved.entries} entries of docker save`);
    assert.deepEqual(saved.hits, {});
    const config = await docker(['image', 'inspect', record.imageId]);
    assert.equal(config.includes(registry.token), false, 'image config');
    const history = await docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', record.imageId]);
    assert.equal(history.includes(registry.token), false, 'history');
    assert.equal(JSON.stringify(record).includes(registry.token), false, 'build record');
  });

  test('the token never appears in the build output or the complete BuildKit log', () => {
    assert.equal(withSecret?.code, 0, 'needs the canary build');
    assert.equal(withSecret.output.includes(registry.token), false, 'tool output');
    const log = readFileSync(path.join(tmp, 'build.log'), 'utf8');
    assert.match(log, /npm (ci|prune)/, 'the log is the real BuildKit log, install step included');
    assert.equal(log.includes(registry.token), false, 'raw BuildKit log (not redacted)');
  });
});
