// The local pipeline refuses contradictory or malformed flags before doing any work.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePipelineArgs } from '../pipeline.mjs';
import { runTool } from './support/run-tool.mjs';

for (const [args, message] of [
  [[], /say where to push with --registry/],
  [['--all', '--base', 'main', '--no-push'], /--all and --base\/--head exclude each other/],
  [['--registry', 'ghcr.io/acme', '--no-push'], /exclude each other/],
  [['--registry', 'not a registry!'], /invalid --registry/],
  [['--no-push', '--secret', 'nonsense'], /--secret expects/],
  [['--no-push', '--build-arg', 'NOEQUALS'], /--build-arg expects KEY=VALUE/],
  [['--no-push', '--what'], /unknown flag --what/],
  [['--no-push', '--platforms', 'linux/amd64,linux/arm64'], /--no-push builds one platform/],
  [['--no-push', '--platforms', 'amd64'], /invalid platform 'amd64'/],
  [['--no-push', '--platforms', ''], /--platforms needs at least one platform/],
  [['--no-push', '--projects', 'catalog', '--all'], /--projects and --all\/--base\/--head exclude each other/],
  [['--no-push', '--projects', ' , '], /--projects needs at least one project/],
  [['--no-push', '--projects', 'catalog Bad!'], /invalid project name 'Bad!' in --projects/],
  [['--registry', 'r.example/a', '--base-image', 'r.example/a/base-image:latest'], /invalid --base-image .*expected a pushed base by digest/],
  [['--no-push', '--base-image', `r.example/a/base-image@sha256:${'0'.repeat(64)}`], /--base-image needs a registry/],
]) {
  test(`pipeline rejects ${JSON.stringify(args)}`, () => {
    assert.throws(() => parsePipelineArgs(args), message);
    const r = runTool('tools/pipeline.mjs', args);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}

test('accepts a registry with a port and a path', () => {
  assert.equal(parsePipelineArgs(['--all', '--registry', '127.0.0.1:5000/acme/shop']).registry, '127.0.0.1:5000/acme/shop');
});

test('a matrix batch: --projects takes its space-separated list (or commas), in order, once each', () => {
  assert.deepEqual(parsePipelineArgs(['--no-push', '--projects', 'orders catalog,orders']).projects, ['orders', 'catalog']);
  const base = `127.0.0.1:5000/acme/base-image@sha256:${'a'.repeat(64)}`;
  assert.equal(parsePipelineArgs(['--registry', '127.0.0.1:5000/acme', '--projects', 'orders', '--base-image', base])['base-image'], base);
});
