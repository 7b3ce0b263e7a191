// check-portable-deps.cjs, the build-stage guard that keeps cross-built images correct: production dependencies are
// installed on the build platform, so a native addon or an install script must fail the build. No Docker needed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { workspaceRoot } from '../../../tools/lib/workspace.mjs';
import { runTool } from '../../../tools/test/support/run-tool.mjs';

const script = path.join(workspaceRoot, 'docker/service/check-portable-deps.cjs');
const { check } = createRequire(import.meta.url)(script);
const dir = mkdtempSync(path.join(os.tmpdir(), 'portable-deps-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tree(name, packages) {
  const root = path.join(dir, name, 'node_modules');
  for (const [pkg, { manifest = {}, files = {} }] of Object.entries(packages)) {
    const pkgDir = path.join(root, pkg);
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: pkg.split('/node_modules/').pop(), version: '1.0.0', ...manifest }));
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(pkgDir, file)), { recursive: true });
      writeFileSync(path.join(pkgDir, file), content);
    }
  }
  return root;
}

test('pure JavaScript dependencies (scoped and nested too) pass', () => {
  const root = tree('pure', {
    fastify: { files: { 'lib/a.js': '' } },
    '@scope/util': {},
    'fastify/node_modules/inner': { manifest: { scripts: { test: 'x', prepare: 'y' } } },
  });
  assert.deepEqual(check(root), []);
  const pure = runTool(script, [root]);
  assert.equal(pure.status, 0, pure.stderr);
  assert.match(pure.stdout, /portable: 3 packages/);
});

test('each kind of native or install-time part is named, nested and scoped packages included, and fails the build', () => {
  const root = tree('native', {
    ok: {},
    gyp: { files: { 'binding.gyp': '{}' } },
    addon: { files: { 'build/Release/addon.node': '' } },
    '@scope/prebuilt': { files: { 'prebuilds/linux-x64/x.node': '' } },
    scripted: { manifest: { scripts: { postinstall: 'node build.js' } } },
    'ok/node_modules/deep': { manifest: { scripts: { install: 'node-gyp rebuild' }, gypfile: true } },
  });
  assert.deepEqual(check(root).sort(), [
    '@scope/prebuilt: prebuilds/',
    'addon: build/Release/addon.node',
    'gyp: binding.gyp',
    "ok/node_modules/deep: install script 'install', gypfile",
    "scripted: install script 'postinstall'",
  ]);
  const run = runTool(script, [root]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^error: not portable across architectures: gyp: binding\.gyp$/m);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
});
