// The plugin's createNodes against small workspaces on disk: which targets each kind of project gets, and the
// one-line errors for a service whose facts are wrong.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const require = createRequire(import.meta.url);
const plugin = require('../src/index.js');
const { NODE_TARGET } = require('../src/conventions.js');
const { serviceFactsOf } = require('../src/service-facts.js');

const roots = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function workspace(files) {
  const root = mkdtempSync(path.join(tmpdir(), 'nx-plugin-test-'));
  roots.push(root);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

async function infer(files) {
  const root = workspace(files);
  const projectFiles = Object.keys(files).filter((f) => f.endsWith('project.json'));
  const [pattern, createNodes] = plugin.createNodesV2;
  assert.equal(pattern, '{apps,libs,docker}/*/project.json');
  const results = await createNodes(projectFiles, undefined, { workspaceRoot: root, nxJsonConfiguration: {} });
  return Object.fromEntries(results.flatMap(([, result]) => Object.entries(result.projects ?? {})));
}

const service = (name, framework, port, extra = {}) => ({ name, tags: ['type:service', `framework:${framework}`], metadata: { port, ...extra } });

test('a service gets build, serve, lint, typecheck, test and docker-build, each with paths of its own root', async () => {
  const projects = await infer({ 'apps/shop/project.json': service('shop', 'express', 3100) });
  const shop = projects['apps/shop'];
  assert.deepEqual(Object.keys(shop.targets).sort(), ['build', 'docker-build', 'lint', 'serve', 'test', 'typecheck']);
  assert.equal(shop.projectType, 'application');
  assert.equal(shop.sourceRoot, 'apps/shop/src');
  assert.deepEqual(shop.implicitDependencies, ['base-image', 'service-image']);
  const { build, serve, lint, typecheck, test: jest } = shop.targets;
  assert.equal(build.executor, '@nx/esbuild:esbuild');
  assert.equal(build.options.main, 'apps/shop/src/main.ts');
  assert.equal(build.options.outputPath, 'dist/apps/shop');
  assert.equal(build.options.tsConfig, 'apps/shop/tsconfig.app.json');
  assert.equal(build.options.target, NODE_TARGET);
  assert.equal(build.options.bundle, true);
  assert.ok(build.options.external.includes('express') && build.options.external.includes('fastify'));
  assert.deepEqual(serve.dependsOn, ['build']);
  assert.equal(serve.options.command, 'node dist/apps/shop/main.js');
  assert.equal(lint.options.command, 'eslint apps/shop');
  assert.equal(typecheck.options.command, 'tsc -p apps/shop/tsconfig.spec.json --noEmit');
  assert.equal(jest.options.jestConfig, 'apps/shop/jest.config.cjs');
  assert.equal(shop.targets['docker-build'].options.command, 'node tools/docker-build.mjs shop');
  assert.match(shop.targets['docker-build'].metadata.description, /PORT=3100.*inferred by @secure-ci\/nx-plugin/);
  // caching, inputs and dependsOn of build/test/docker-build stay in nx.json targetDefaults, shared by every project
  for (const target of ['build', 'docker-build', 'test', 'lint', 'typecheck']) {
    assert.equal(shop.targets[target].inputs, undefined, target);
    assert.equal(shop.targets[target].cache, undefined, target);
  }
});

test('every inferred target explains itself (metadata.description naming the plugin)', async () => {
  const projects = await infer({
    'apps/shop/project.json': service('shop', 'fastify', 3100),
    'libs/kit/project.json': { name: 'kit', tags: ['type:lib'] },
    'libs/kit/tsconfig.spec.json': '{}',
    'libs/kit/jest.config.cjs': '',
    'docker/base/project.json': { name: 'base-image', tags: ['type:image'] },
    'docker/base/test/dockerfile-policy.test.mjs': '',
  });
  for (const [root, project] of Object.entries(projects)) {
    for (const [name, target] of Object.entries(project.targets))
      assert.match(target.metadata?.description ?? '', /inferred by @secure-ci\/nx-plugin/, `${root}:${name}`);
  }
});

test('a library gets lint, and typecheck/test only when it has their config', async () => {
  const projects = await infer({
    'libs/kit/project.json': { name: 'kit', tags: ['type:lib'] },
    'libs/kit/tsconfig.spec.json': '{}',
    'libs/kit/jest.config.cjs': '',
    'libs/adapter/project.json': { name: 'adapter', tags: ['type:lib'] },
    'libs/adapter/tsconfig.spec.json': '{}',
  });
  assert.deepEqual(Object.keys(projects['libs/kit'].targets).sort(), ['lint', 'test', 'typecheck']);
  assert.deepEqual(Object.keys(projects['libs/adapter'].targets).sort(), ['lint', 'typecheck']);
  assert.equal(projects['libs/kit'].projectType, 'library');
});

test('image projects: docker-build only for type:image, the policy test when present, tools cut from the graph', async () => {
  const projects = await infer({
    'docker/base/project.json': { name: 'base-image', tags: ['type:image'] },
    'docker/base/test/dockerfile-policy.test.mjs': '',
    'docker/service/project.json': { name: 'service-image', tags: ['type:image-recipe'] },
    'docker/compose/project.json': { name: 'compose', tags: [] },
  });
  const base = projects['docker/base'];
  assert.deepEqual(Object.keys(base.targets).sort(), ['docker-build', 'lint', 'test']);
  assert.equal(base.targets['docker-build'].options.command, 'node tools/docker-build.mjs base-image');
  assert.equal(base.targets.test.options.command, 'node --test docker/base/test/dockerfile-policy.test.mjs');
  assert.deepEqual(base.implicitDependencies, ['!tools']);
  assert.deepEqual(base.namedInputs, { default: ['{projectRoot}/**/*'] }, 'no tsconfig: a TypeScript setting never rebuilds the base');
  assert.equal(base.projectType, 'application');
  assert.deepEqual(Object.keys(projects['docker/service'].targets), ['lint']);
  assert.equal(projects['docker/service'].projectType, 'library');
});

test('an app without type:service gets nothing inferred', async () => {
  const projects = await infer({ 'apps/site/project.json': { name: 'site', tags: ['type:web'] } });
  assert.deepEqual(projects, {});
});

test('wrong service facts: one clear error naming the file', async () => {
  for (const [project, message] of [
    [service('shop', 'koa', 3100), /apps\/shop\/project.json: a service needs exactly one tag framework:fastify or framework:express/],
    [{ ...service('shop', 'express', 3100), tags: ['type:service'] }, /exactly one tag framework:/],
    [service('shop', 'express', '3100'), /"metadata.port" must be an integer 1-65535/],
    [service('shop', 'express', 70000), /"metadata.port" must be an integer 1-65535/],
    [service('shop', 'express', 3100, { calls: 'catalog' }), /"metadata.calls" must be a list/],
  ]) {
    await assert.rejects(infer({ 'apps/shop/project.json': project }), (error) => {
      // Nx's AggregateCreateNodesError: one [file, error] per project file that failed
      const [[file, cause]] = error.errors;
      assert.equal(file, 'apps/shop/project.json');
      assert.match(cause.message, message);
      assert.equal(cause.message.split('\n').length, 1);
      return true;
    });
  }
  assert.equal(serviceFactsOf({ name: 'x', tags: [] }, 'x'), null);
  assert.deepEqual(serviceFactsOf(service('shop', 'fastify', 1, { calls: ['a'] }), 'x'), { name: 'shop', framework: 'fastify', port: 1, calls: ['a'] });
});
