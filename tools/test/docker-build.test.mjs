// docker-build's input handling: one clear line and a non-zero exit for bad input; secrets never printed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSecretSpec, redact, rememberSecret } from '../lib/secrets.mjs';
import { runTool } from './support/run-tool.mjs';

const cli = (args, env = {}) => {
  const r = runTool('tools/docker-build.mjs', args, { env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('docker-build CLI', () => {
  for (const [args, message] of [
    [[], /exactly one project name/],
    [['catalog', 'orders'], /exactly one project name/],
    [['Bad_Name'], /invalid project name/],
    [['nope', '--dry-run'], /unknown service project 'nope'/],
    [['catalog', '--build-arg', 'NOEQUALS'], /--build-arg expects KEY=VALUE/],
    [['catalog', '--secret', 'id=x,bogus=1'], /unknown field/],
    [['catalog', '--frobnicate'], /unknown flag --frobnicate\n$/],
    [['base-image', '--dry-run', '--platform', 'linux/s390x'], /unsupported platform 'linux\/s390x'/],
  ]) {
    test(`rejects ${JSON.stringify(args)} in one line`, () => {
      const r = cli(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  test('--dry-run shows the buildx command: secrets by reference, never by value', () => {
    const r = cli(['base-image', '--dry-run', '--secret', 'id=npm_token,env=DRY_RUN_TOKEN'], { DRY_RUN_TOKEN: 'tok-123456-secret' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--secret id=npm_token,env=DRY_RUN_TOKEN/);
    assert.match(r.stdout, /--file docker\/base\/Dockerfile/);
    assert.equal(r.stdout.includes('tok-123456-secret'), false);
  });

  test('--platform for the other architecture: tags suffixed -<arch>, the build targets it, NODE_VERSION passed', () => {
    const other = process.arch === 'arm64' ? 'amd64' : 'arm64';
    const r = cli(['base-image', '--dry-run', '--platform', `linux/${other}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`--platform linux/${other}`));
    assert.match(r.stdout, new RegExp(`--tag \\S+/base-image:local-${other}\\b`));
    assert.match(r.stdout, /--build-arg NODE_VERSION=\d+\.\d+\.\d+/);
    const native = cli(['base-image', '--dry-run', '--platform', `linux/${process.arch === 'arm64' ? 'arm64' : 'amd64'}`]);
    assert.match(native.stdout, /--tag \S+\/base-image:local(\s|$)/, "the engine's own architecture keeps the plain tags");
  });

  test('an empty secret variable (fork PRs) is skipped with a notice instead of failing', () => {
    const r = cli(['base-image', '--dry-run', '--secret', 'id=npm_token,env=EMPTY_TOKEN'], { EMPTY_TOKEN: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /secret 'npm_token' not passed: environment variable EMPTY_TOKEN is empty/);
    assert.doesNotMatch(r.stdout, /id=npm_token/);
  });

  test('services get their per-project build args (needs `nx build catalog`: the tools test target depends on it)', () => {
    const r = cli(['catalog', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--build-arg PROJECT=catalog/);
    assert.match(r.stdout, /--build-arg PORT=3001/);
    assert.match(r.stdout, /--file docker\/service\/Dockerfile/);
  });
});

describe('secret specs and redaction', () => {
  test('parses buildx secret syntax', () => {
    assert.deepEqual(parseSecretSpec('id=npm_token,env=NPM_TOKEN'), { id: 'npm_token', env: 'NPM_TOKEN' });
    assert.deepEqual(parseSecretSpec('id=ca,src=/tmp/ca.pem'), { id: 'ca', src: '/tmp/ca.pem' });
    assert.deepEqual(parseSecretSpec('id=ca,source=/tmp/ca.pem,type=file'), { id: 'ca', src: '/tmp/ca.pem' });
    assert.deepEqual(parseSecretSpec('id=npm_token'), { id: 'npm_token', env: 'npm_token' });
  });

  test('rejects malformed specs without echoing values', () => {
    assert.throws(() => parseSecretSpec('src=/x'), /valid id/);
    assert.throws(() => parseSecretSpec('id=a,type=ssh'), /type must be file or env/);
    assert.throws(() => parseSecretSpec('justtext'), /--secret expects/);
  });

  test('redacts remembered values and credential shapes', () => {
    rememberSecret('s3cr3t-value');
    assert.equal(redact('token s3cr3t-value here'), 'token *** here');
    assert.equal(redact('//registry/:_authToken=abc.def'), '//registry/:_authToken=***');
    assert.equal(redact('Authorization: Bearer xyz'), 'Authorization: Bearer ***');
  });
});

describe('without a Docker Engine', () => {
  test('docker-build fails with one line saying how to start one (never a silent skip)', () => {
    const r = cli(['base-image'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no Docker Engine answers .*start dockerd/);
    assert.doesNotMatch(r.stderr, /BuildKit-capable/, 'a missing engine is not reported as a client problem');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  test('the image tests fail loudly, naming the missing engine', () => {
    // NODE_TEST_CONTEXT would make the inner runner report to this one instead of exiting with its own status
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = runTool('--test', ['docker/base/test/base-image.test.mjs'], { env: { ...env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /no Docker Engine answers/);
    assert.match(r.stdout, /^# skipped 0$/m);
    assert.match(r.stdout, /^# cancelled [1-9]/m, 'the tests count as not passed');
  });
});
