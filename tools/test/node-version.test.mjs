// The one Node.js version (.node-version): exact, and everything that needs a Node.js version follows it — the
// esbuild target of every app (its major line), the stand-in refs of tools/bases.mjs, the NODE_VERSION build arg of
// tools/docker-build.mjs. (The workflows' setup-node and the Dockerfiles are checked in workflows.test.mjs and the
// Dockerfile policy.) A bad file is one line, never a stack.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { esbuildTarget, nodeVersion } from '../lib/node-version.mjs';
import { upstreamRefs } from '../lib/base-images.mjs';
import { listServices } from '../lib/services.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';
import { runTool } from './support/run-tool.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'node-version-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('.node-version holds one exact version of an even (LTS) major line', () => {
  assert.match(nodeVersion(), /^\d+\.\d+\.\d+$/);
  assert.equal(Number(nodeVersion().split('.')[0]) % 2, 0);
});

test('every app bundles for that major line (the Nx plugin infers the esbuild target from it)', () => {
  const require = createRequire(import.meta.url);
  const { NODE_TARGET } = require('../nx-plugin/src/conventions.js');
  assert.equal(NODE_TARGET, esbuildTarget());
  const { serviceTargets } = require('../nx-plugin/src/infer-targets.js');
  for (const service of listServices()) assert.equal(serviceTargets(service.root, service).build.options.target, esbuildTarget(), service.name);
});

test("the upstream Node.js image ref and docker-build's build args carry it", async () => {
  assert.equal(upstreamRefs().NODE_IMAGE, `node:${nodeVersion()}-trixie-slim`);
  const { status, stdout, stderr } = runTool(path.join(workspaceRoot, 'tools/docker-build.mjs'), ['base-image', '--dry-run']);
  assert.equal(status, 0, stderr);
  assert.match(stdout, new RegExp(`--build-arg NODE_VERSION=${nodeVersion().replaceAll('.', '\\.')}\\b`));
});

test('a missing or inexact version file is one clear line', () => {
  writeFileSync(path.join(dir, 'floating'), '24\n');
  assert.throws(() => nodeVersion(path.join(dir, 'floating')), { message: /must hold one exact Node\.js version \(major\.minor\.patch\), got '24'/ });
  assert.throws(() => nodeVersion(path.join(dir, 'absent')), { message: /cannot read the Node\.js version from .*: ENOENT/ });
  writeFileSync(path.join(dir, 'with-v'), 'v24.22.3\n');
  assert.equal(nodeVersion(path.join(dir, 'with-v')), '24.22.3', 'a leading v (as nvm writes it) is accepted');
});
