// The pipeline-change set (tools/lib/pipeline-changes.mjs) is derived from what the workflows run: on this repository
// it holds the files the issue found missing from the old hand list, and leaves out what no workflow runs; on a
// throwaway repository, a change counts exactly when a workflow runs it (directly, through an import, as a file a
// tool reads by name, or as a lockfile entry of a package the tools import). Each rule with a counter-example.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { changedPipelineFiles, lockfileEntries, pipelineInputs } from '../lib/pipeline-changes.mjs';
import { gitIn } from './support/run-tool.mjs';

describe('the pipeline set of this repository, derived from the workflows', () => {
  let inputs;
  before(async () => {
    inputs = await pipelineInputs();
  });

  test("holds every workflow, the scripts their run: commands name and those scripts' import closure", () => {
    for (const file of [
      '.github/workflows/pr.yml',
      '.github/workflows/publish.yml',
      '.github/workflows/refresh.yml',
      '.github/scripts/image-record.mjs',
      'tools/scan.mjs',
      'tools/tag.mjs',
      'tools/lib/tag-moves.mjs',
      'tools/release-guard.mjs',
      'tools/signing-identity.mjs',
      // missing from the old hand list:
      'tools/k8s-images.mjs',
      'tools/base-freshness.mjs',
      'tools/lib/debian/archive.mjs',
      'tools/lib/debian/version.mjs',
      'tools/lib/image-selection.mjs',
      'tools/lib/nx-graph.cjs',
      // run by pr.yml's image job on the built base
      'docker/base/test/base-image.test.mjs',
      'docker/service/test/dockerfile-policy.test.mjs',
    ])
      assert.ok(inputs.files.includes(file), file);
  });

  test('holds the files the workflows and tools read by name (.node-version, .trivyignore)', () => {
    for (const file of ['.node-version', '.trivyignore']) assert.ok(inputs.files.includes(file), file);
  });

  test('counter-examples: what no workflow runs is not in it', () => {
    for (const file of [
      'tools/stack.mjs',
      'tools/bases.mjs',
      'README.md',
      'bench/images.mjs',
      'tools/test/workflows.test.mjs',
      'package.json',
      'package-lock.json',
    ])
      assert.equal(inputs.files.includes(file), false, file);
  });

  test("the tools' npm packages and their lockfile entries (transitively), not the services' dependencies", () => {
    for (const name of ['semver', 'yaml', 'zx', 'nx']) assert.ok(inputs.packages.includes(name), name);
    assert.ok(inputs.lockfileEntries.includes('node_modules/semver'));
    assert.ok(inputs.lockfileEntries.includes('node_modules/yaml'));
    for (const name of ['fastify', 'express', 'pino']) assert.equal(inputs.lockfileEntries.includes(`node_modules/${name}`), false, name);
  });
});

describe('lockfileEntries: npm resolution, nested copies first', () => {
  test('a nested copy wins over the hoisted one; dependencies are followed', () => {
    const lock = {
      packages: {
        '': {},
        'node_modules/a': { dependencies: { b: '^2' } },
        'node_modules/a/node_modules/b': { version: '2.0.0', dependencies: { c: '1' } },
        'node_modules/b': { version: '1.0.0' },
        'node_modules/c': { version: '1.0.0' },
        'node_modules/unrelated': { version: '1.0.0' },
      },
    };
    assert.deepEqual(lockfileEntries(lock, ['a']), ['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/c']);
  });
});

describe('changedPipelineFiles on a throwaway repository', () => {
  let dir;
  let git;
  const write = (files) => {
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    }
  };
  const lock = (versions) => ({
    name: 'x',
    lockfileVersion: 3,
    packages: {
      '': { name: 'x' },
      'node_modules/semver': { version: versions.semver, dependencies: { lru: '1' } },
      'node_modules/lru': { version: versions.lru },
      'node_modules/left-pad': { version: versions.leftPad },
    },
  });
  const commit = (message, files) => {
    write(files);
    git('add', '-A');
    git('commit', '-q', '-m', message);
  };
  const changed = () => changedPipelineFiles({ cwd: dir, base: 'HEAD~1', head: 'HEAD' });

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-changes-'));
    git = gitIn(dir);
    git('init', '-q', '-b', 'main');
    for (const [key, value] of [
      ['user.name', 'test'],
      ['user.email', 'test@example.invalid'],
      ['commit.gpgsign', 'false'],
    ])
      git('config', key, value);
    commit('start', {
      '.github/workflows/ci.yml': 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: node tools/gate.mjs "$PROJECT"\n',
      'tools/gate.mjs': "import semver from 'semver';\nimport { rules } from './lib/rules.mjs';\nexport const file = '.gateignore';\n",
      'tools/lib/rules.mjs': 'export const rules = 1;\n',
      'tools/unused.mjs': 'export const x = 1;\n',
      '.gateignore': '# nothing\n',
      'docs.md': 'docs\n',
      'package-lock.json': lock({ semver: '7.0.0', lru: '1.0.0', leftPad: '1.0.0' }),
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [what, files, expected] of [
    [
      'the workflow',
      { '.github/workflows/ci.yml': 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: node tools/gate.mjs\n' },
      ['.github/workflows/ci.yml'],
    ],
    [
      'the script a run: names',
      { 'tools/gate.mjs': "import semver from 'semver';\nimport { rules } from './lib/rules.mjs';\nexport const file = '.gateignore'; // v2\n" },
      ['tools/gate.mjs'],
    ],
    ['a module it imports', { 'tools/lib/rules.mjs': 'export const rules = 2;\n' }, ['tools/lib/rules.mjs']],
    ['a file it reads by name', { '.gateignore': '# something\n' }, ['.gateignore']],
    ["a lockfile entry of the tools' package", { 'package-lock.json': lock({ semver: '7.0.1', lru: '1.0.0', leftPad: '1.0.0' }) }, ['package-lock.json']],
    ['a lockfile entry of its dependency', { 'package-lock.json': lock({ semver: '7.0.1', lru: '1.0.1', leftPad: '1.0.0' }) }, ['package-lock.json']],
    ['a module that does not parse (work in progress)', { 'tools/lib/rules.mjs': 'export const rules = ;\n' }, ['tools/lib/rules.mjs']],
    ['counter-example: a tool no workflow runs', { 'tools/unused.mjs': 'export const x = 2;\n' }, []],
    ['counter-example: docs', { 'docs.md': 'more docs\n' }, []],
    ['counter-example: a lockfile entry no tool uses', { 'package-lock.json': lock({ semver: '7.0.1', lru: '1.0.1', leftPad: '1.0.1' }) }, []],
  ]) {
    test(`${what}: ${expected.length ? 'a pipeline change' : 'not a pipeline change'}`, async () => {
      commit(what, files);
      assert.deepEqual(await changed(), expected);
    });
  }
});
