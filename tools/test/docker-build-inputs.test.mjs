// Every local module tools/docker-build.mjs loads (static imports and `await import('./…')`, followed through every
// file) is an input of the docker-build target in nx.json: a change to any of them makes every image affected.
// esbuild's metafile is the import walk (it resolves exactly what Node would load); packages stay external.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { workspaceRoot } from '../lib/workspace.mjs';

const ENTRY = 'tools/docker-build.mjs';

async function loadedModules(entry = ENTRY) {
  const result = await build({
    entryPoints: [path.join(workspaceRoot, entry)],
    absWorkingDir: workspaceRoot,
    bundle: true,
    metafile: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).sort();
}

const dockerBuildInputs = () => JSON.parse(readFileSync(path.join(workspaceRoot, 'nx.json'), 'utf8')).targetDefaults['docker-build'].inputs;

/** nx input globs under {workspaceRoot} as regular expressions (`**` any depth, `*` within one path segment). */
function workspacePatterns(inputs) {
  return inputs
    .filter((input) => input.startsWith('{workspaceRoot}/'))
    .map((input) => {
      const glob = input.slice('{workspaceRoot}/'.length);
      const source = glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\/\*/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replaceAll('\u0000', '.*');
      return { glob, regex: new RegExp(`^${source}$`) };
    });
}

const uncovered = (modules, inputs) => {
  const patterns = workspacePatterns(inputs);
  return modules.filter((file) => !patterns.some((p) => p.regex.test(file)));
};

test('the import walk reaches the modules docker-build loads indirectly', async () => {
  const modules = await loadedModules();
  for (const file of [
    'tools/lib/dockerfile-args.mjs',
    'tools/lib/base-images.mjs',
    'tools/lib/build-record.mjs',
    'tools/lib/defaults.cjs',
    'tools/lib/workspace.mjs',
    'tools/lib/cli.mjs',
    'tools/lib/process.mjs',
    'tools/lib/metadata/compute.mjs',
  ]) {
    assert.ok(modules.includes(file), `${file} in ${modules.join(', ')}`);
  }
  assert.equal(
    modules.some((file) => file.includes('node_modules')),
    false,
    'packages are not walked',
  );
});

test('every local module docker-build loads is a docker-build input in nx.json', async () => {
  assert.deepEqual(uncovered(await loadedModules(), dockerBuildInputs()), []);
});

test('no tools/ input is stale: each names a module docker-build loads', async () => {
  const modules = await loadedModules();
  const stale = workspacePatterns(dockerBuildInputs()).filter((p) => p.glob.startsWith('tools/') && !modules.some((file) => p.regex.test(file)));
  assert.deepEqual(
    stale.map((p) => p.glob),
    [],
  );
});

test('counter-example: dropping an input is caught, and a glob covers only its own folder', async () => {
  const modules = await loadedModules();
  const inputs = dockerBuildInputs().filter((input) => input !== '{workspaceRoot}/tools/lib/process.mjs');
  assert.deepEqual(uncovered(modules, inputs), ['tools/lib/process.mjs']);
  assert.deepEqual(uncovered(['tools/lib/metadata/a/b.mjs', 'tools/lib/other.mjs'], ['{workspaceRoot}/tools/lib/metadata/**/*']), ['tools/lib/other.mjs']);
  assert.deepEqual(uncovered(['tools/lib/x.mjs'], ['{workspaceRoot}/tools/*.mjs']), ['tools/lib/x.mjs']);
});
