// docker-build on a machine that cannot pull the upstream base images: with no offline stand-in recorded it stops
// before BuildKit with one line naming `npm run bases`, never on a registry DNS error; once the image is there, the
// build goes on and its BuildKit log streams live, each line prefixed with the project (and is written whole with
// --log). Runs docker-build in a copy of the workspace whose base Dockerfile pins refs on a registry that cannot
// answer (127.0.0.1:9), so the result is the same on machines that can reach Docker Hub. Needs a Docker Engine.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { dockerEnv, requireDocker } from '../lib/docker-engine.mjs';
import { $ } from '../lib/process.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';

const UNREACHABLE = '127.0.0.1:9/secure-ci-test';
const DEBIAN = `${UNREACHABLE}/debian:13.8-slim`;
const NODE = (version) => `${UNREACHABLE}/node:${version}-trixie-slim`;
const copy = mkdtempSync(path.join(os.tmpdir(), 'base-images-test-'));
let toolchain;

const dockerBuild = (...args) =>
  $({
    cwd: copy,
    nothrow: true,
    env: { ...process.env, IMAGE_PREFIX: 'localhost/secure-ci-test' },
  })`${process.execPath} tools/docker-build.mjs base-image --tags type=raw,value=test --build-arg PACKAGES_SNAPSHOT=test ${args}`;

before(async () => {
  toolchain = await requireDocker(); // no engine: this fails with one line saying what to start or install
  for (const part of ['tools', 'docker', '.node-version', 'package.json', 'nx.json'])
    cpSync(path.join(workspaceRoot, part), path.join(copy, part), { recursive: true });
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(copy, 'node_modules'));
  const dockerfile = path.join(copy, 'docker/base/Dockerfile');
  const text = readFileSync(dockerfile, 'utf8');
  writeFileSync(
    dockerfile,
    text.replace(/^ARG DEBIAN_IMAGE=.*$/m, `ARG DEBIAN_IMAGE=${DEBIAN}`).replace(/^ARG NODE_IMAGE=.*$/m, `ARG NODE_IMAGE=${NODE('${NODE_VERSION}')}`),
  );
});

after(async () => {
  rmSync(copy, { recursive: true, force: true });
  if (toolchain)
    await $({
      env: dockerEnv(toolchain),
      nothrow: true,
    })`${toolchain.client} image rm ${DEBIAN} ${NODE(readFileSync(path.join(workspaceRoot, '.node-version'), 'utf8').trim())}`;
});

test('an upstream base that cannot be pulled, and no stand-in: one line naming npm run bases, before BuildKit runs', async () => {
  assert.equal(existsSync(path.join(copy, 'dist/docker/bases.json')), false);
  const build = await dockerBuild();
  assert.equal(build.exitCode, 1, build.stderr);
  assert.match(
    build.stderr,
    new RegExp(
      `^docker-build: error: cannot pull ${DEBIAN.replace(/[.]/g, '\\.')} \\(.+\\) and no offline stand-in is recorded in dist/docker/bases\\.json: run npm run bases`,
    ),
  );
  assert.equal(build.stderr.trim().split('\n').length, 1, build.stderr);
  assert.doesNotMatch(build.stdall, /registry-1\.docker\.io|\[base-image\]/, 'BuildKit never started');
});

test('counter-example: with the upstream image present the build goes on, streaming its log live with a prefix', async () => {
  const version = readFileSync(path.join(copy, '.node-version'), 'utf8').trim();
  // An empty image under the pinned refs: enough to get past the check; the first RUN then fails (no shell in it).
  const empty = $({ env: dockerEnv(toolchain) });
  await $`tar -cf - -T /dev/null`.pipe(empty`${toolchain.client} import - ${DEBIAN}`);
  await empty`${toolchain.client} tag ${DEBIAN} ${NODE(version)}`;
  const log = path.join(copy, 'build.log');
  const build = await dockerBuild('--log', log);
  assert.equal(build.exitCode, 1, build.stderr);
  assert.doesNotMatch(build.stderr, /cannot pull/);
  const streamed = build.stdall.split('\n').filter((line) => line.startsWith('[base-image] '));
  assert.ok(
    streamed.some((line) => /^\[base-image\] #\d+ /.test(line)),
    `BuildKit's progress lines, prefixed:\n${build.stdall}`,
  );
  const last = build.stderr.trim().split('\n').pop();
  assert.match(last, /^docker-build: error: building base-image failed: /);
  // the --log file holds the same log, unprefixed, as BuildKit wrote it
  const written = readFileSync(log, 'utf8');
  assert.ok(streamed.length > 0 && streamed.every((line) => written.includes(line.slice('[base-image] '.length))));
});
