// tools/image-store.mjs, which the workflows' build jobs run first: daemon.json gets the containerd image store
// turned on with every other setting kept, a second run changes nothing, and a file it cannot read safely is one line
// with the file untouched. The engine restart itself (systemctl) is a hosted runner's, not this machine's: here the
// engines .ci/run starts are checked to be left alone (the default one is on the containerd store already; the
// second, named by DOCKER_HOST, is not the system's engine).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { withContainerdStore } from '../image-store.mjs';
import { requireDocker } from '../lib/docker-engine.mjs';
import { runTool } from './support/run-tool.mjs';

const dir = mkdtempSync(path.join(os.tmpdir(), 'image-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tool = (args) => runTool('tools/image-store.mjs', args);

test('a runner daemon.json keeps its settings and gains the feature; a second run leaves the file alone', () => {
  const file = path.join(dir, 'daemon.json');
  // what GitHub's Ubuntu images ship, roughly: settings that must survive
  writeFileSync(file, JSON.stringify({ 'exec-opts': ['native.cgroupdriver=cgroupfs'], 'cgroup-parent': '/actions_job', features: { 'some-other': true } }));
  const first = tool(['--daemon-json', file, '--no-restart']);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /features\.containerd-snapshotter = true/);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), {
    'exec-opts': ['native.cgroupdriver=cgroupfs'],
    'cgroup-parent': '/actions_job',
    features: { 'some-other': true, 'containerd-snapshotter': true },
  });
  const before = readFileSync(file, 'utf8');
  const second = tool(['--daemon-json', file, '--no-restart']);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /already turns the containerd image store on/);
  assert.equal(readFileSync(file, 'utf8'), before);
});

test('no daemon.json yet: one is written with just the feature', () => {
  const file = path.join(dir, 'absent.json');
  assert.equal(tool(['--daemon-json', file, '--no-restart']).status, 0);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { features: { 'containerd-snapshotter': true } });
});

test('an explicit false is turned on; counter-example: the function says "nothing to do" only when it is true', () => {
  assert.match(withContainerdStore('{"features":{"containerd-snapshotter":false}}'), /"containerd-snapshotter": true/);
  assert.equal(withContainerdStore('{"features":{"containerd-snapshotter":true}}'), null);
});

test('a file it cannot merge safely: one line, exit 1, the file untouched', () => {
  for (const [name, text, message] of [
    ['broken.json', '{"exec-opts": [', /is not valid JSON/],
    ['array.json', '[]', /must hold a JSON object/],
    ['features.json', '{"features": "yes"}', /"features" must be an object/],
  ]) {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    const result = tool(['--daemon-json', file, '--no-restart']);
    assert.equal(result.status, 1, name);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^image-store: error: /);
    assert.equal(readFileSync(file, 'utf8'), text, `${name} untouched`);
  }
});

test('bad flags: one line, exit 2', () => {
  const result = tool(['--restart-now']);
  assert.equal(result.status, 2);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
});

/** A PATH whose `systemctl` (and `sudo`, for a non-root run) only record that they ran: no engine is restarted. */
function stubbedPath() {
  const bin = mkdtempSync(path.join(dir, 'bin-'));
  const calls = path.join(bin, 'calls');
  writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >> ${calls}\n`, { mode: 0o755 });
  writeFileSync(path.join(bin, 'sudo'), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
  return { PATH: `${bin}:${process.env.PATH}`, calls };
}

/** The tool against the engine at `host` (undefined: the default one), a restart stubbed should it try one. */
function againstEngine(host, file) {
  const { PATH, calls } = stubbedPath();
  const env = { ...process.env, PATH };
  if (host) env.DOCKER_HOST = host;
  else delete env.DOCKER_HOST;
  return { result: runTool('tools/image-store.mjs', ['--daemon-json', file], { env }), calls };
}

test('the engines this machine runs: one already on the containerd store, and one named by DOCKER_HOST, are left alone (nothing written, nothing restarted)', async () => {
  assert.equal((await requireDocker()).imageStore, 'containerd', 'the default engine uses the containerd image store (.ci/docker-engine start containerd)');
  const engines = [{ host: undefined, expect: /already uses the containerd image store/ }];
  // .ci/run starts a second engine with the classic store: a build on it keeps the classic store's path
  if (process.env.SECURE_CI_OTHER_ENGINE)
    engines.push({ host: process.env.SECURE_CI_OTHER_ENGINE, expect: /is not the system's engine: its classic image store is left as it is/ });
  for (const [i, engine] of engines.entries()) {
    const file = path.join(dir, `engine-${i}.json`);
    const { result, calls } = againstEngine(engine.host, file);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, engine.expect);
    assert.equal(existsSync(file), false, 'nothing written');
    assert.equal(existsSync(calls), false, 'nothing restarted');
  }
});
