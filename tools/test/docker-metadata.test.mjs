// Parity tests for tools/docker-metadata.mjs against docker/metadata-action's documented semantics, plus our
// deliberate extras (OCI tag rules, strict input) and the CLI contract (JSON, GITHUB_OUTPUT, one-line errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeMetadata, readGitContext, readGitHubContext } from '../docker-metadata.mjs';
import { assertOneLineError, gitIn, runTool } from './support/run-tool.mjs';

const TOOL = fileURLToPath(new URL('../docker-metadata.mjs', import.meta.url));
const SHA = '860c1904a1ce19322e91ac35af1ab07466440c37';
const HEAD_SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const NOW = new Date('2020-01-10T00:30:00.000Z');
const scratch = mkdtempSync(path.join(tmpdir(), 'docker-metadata-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

let payloads = 0;
/** GitHub Actions env for an event; `payload` is written to a GITHUB_EVENT_PATH file. */
function ghEnv(event, ref, { payload, sha = SHA, extra = {} } = {}) {
  const env = { GITHUB_EVENT_NAME: event, GITHUB_REF: ref, GITHUB_SHA: sha, GITHUB_REPOSITORY: 'acme/shop', ...extra };
  const body = payload ?? { repository: { default_branch: 'main', name: 'shop' } };
  const file = path.join(scratch, `event-${(payloads += 1)}.json`);
  writeFileSync(file, JSON.stringify(body));
  env.GITHUB_EVENT_PATH = file;
  return env;
}

/** Environment for child processes without anything from a surrounding GitHub Actions run. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(GITHUB_|DOCKER_METADATA_|SOURCE_DATE_EPOCH$|RUNNER_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

const long = (n, c = 'a') => c.repeat(n);

// [name, env, {tags, flavor, images?}, expected tag names (image name/app), version, latest]
const CASES = [
  // default rules (schedule, ref/branch, ref/tag, ref/pr)
  ['defaults: push branch', ghEnv('push', 'refs/heads/master'), {}, ['master'], 'master', false],
  ['defaults: branch with slash', ghEnv('push', 'refs/heads/my/branch'), {}, ['my-branch'], 'my-branch', false],
  ['defaults: branch with # and /', ghEnv('push', 'refs/heads/feature#12/fix'), {}, ['feature-12-fix'], 'feature-12-fix', false],
  ['defaults: push tag', ghEnv('push', 'refs/tags/v1.2.3'), {}, ['v1.2.3', 'latest'], 'v1.2.3', true],
  ['defaults: pre-release tag still latest (ref/tag)', ghEnv('push', 'refs/tags/v2.0.8-beta.67'), {}, ['v2.0.8-beta.67', 'latest'], 'v2.0.8-beta.67', true],
  ['defaults: pull_request', ghEnv('pull_request', 'refs/pull/2/merge'), {}, ['pr-2'], 'pr-2', false],
  ['defaults: workflow_dispatch', ghEnv('workflow_dispatch', 'refs/heads/master'), {}, ['master'], 'master', false],
  ['defaults: schedule adds nightly first', ghEnv('schedule', 'refs/heads/main'), {}, ['nightly', 'main'], 'nightly', false],
  [
    'pull_request_target uses the PR, not the base branch',
    ghEnv('pull_request_target', 'refs/heads/main', {
      payload: { number: 5, pull_request: { number: 5, head: { sha: HEAD_SHA }, base: { ref: 'main' } }, repository: { default_branch: 'main' } },
    }),
    {},
    ['pr-5'],
    'pr-5',
    false,
  ],
  // schedule
  ['schedule: date pattern', ghEnv('schedule', 'refs/heads/main'), { tags: "type=schedule,pattern={{date 'YYYYMMDD'}}" }, ['20200110'], '20200110', false],
  [
    'schedule: date with tz',
    ghEnv('schedule', 'refs/heads/main'),
    { tags: "type=schedule,pattern={{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}" },
    ['20200110-093000'],
    '20200110-093000',
    false,
  ],
  ['schedule: not on push', ghEnv('push', 'refs/heads/main'), { tags: 'type=schedule' }, [], '', false],
  // semver
  ['semver: version', ghEnv('push', 'refs/tags/v1.2.3'), { tags: 'type=semver,pattern={{version}}' }, ['1.2.3', 'latest'], '1.2.3', true],
  [
    'semver: version, major.minor, major',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\ntype=semver,pattern={{major}}' },
    ['1.2.3', '1.2', '1', 'latest'],
    '1.2.3',
    true,
  ],
  [
    'semver: v{{major}} and {{patch}}',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern=v{{major}}\ntype=semver,pattern={{patch}}' },
    ['v1', '3', 'latest'],
    'v1',
    true,
  ],
  [
    'semver: pre-release renders the full version',
    ghEnv('push', 'refs/tags/v2.0.8-beta.67'),
    { tags: 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\ntype=semver,pattern={{major}}' },
    ['2.0.8-beta.67'],
    '2.0.8-beta.67',
    false,
  ],
  [
    'semver: pre-release with {{raw}}',
    ghEnv('push', 'refs/tags/v2.0.8-beta.67'),
    { tags: 'type=semver,pattern={{raw}}' },
    ['v2.0.8-beta.67'],
    'v2.0.8-beta.67',
    false,
  ],
  ['semver: not a tag ref', ghEnv('push', 'refs/heads/main'), { tags: 'type=semver,pattern={{version}}' }, [], '', false],
  [
    'semver: invalid version skipped',
    ghEnv('push', 'refs/tags/release-1'),
    { tags: 'type=semver,pattern={{version}}\ntype=ref,event=tag' },
    ['release-1', 'latest'],
    'release-1',
    true,
  ],
  [
    'semver: custom value on a branch',
    ghEnv('push', 'refs/heads/main'),
    { tags: 'type=semver,pattern={{version}},value=v1.0.0' },
    ['1.0.0', 'latest'],
    '1.0.0',
    true,
  ],
  [
    'semver: match attribute',
    ghEnv('push', 'refs/tags/p1/v1.2.3'),
    { tags: 'type=semver,pattern={{version}},match=v(\\d.\\d.\\d)$' },
    ['1.2.3', 'latest'],
    '1.2.3',
    true,
  ],
  // pep440
  [
    'pep440: rc is a pre-release',
    ghEnv('push', 'refs/tags/1.2.3rc2'),
    { tags: 'type=pep440,pattern={{version}}\ntype=pep440,pattern={{major}}.{{minor}}' },
    ['1.2.3rc2'],
    '1.2.3rc2',
    false,
  ],
  [
    'pep440: post release renders normalised full version',
    ghEnv('push', 'refs/tags/1.2.3post1'),
    { tags: 'type=pep440,pattern={{major}}.{{minor}}' },
    ['1.2.3.post1'],
    '1.2.3.post1',
    false,
  ],
  ['pep440: beta normalised', ghEnv('push', 'refs/tags/1.2.3beta2'), { tags: 'type=pep440,pattern={{major}}.{{minor}}' }, ['1.2.3b2'], '1.2.3b2', false],
  ['pep440: dev release', ghEnv('push', 'refs/tags/1.0dev4'), { tags: 'type=pep440,pattern={{major}}.{{minor}}' }, ['1.0.dev4'], '1.0.dev4', false],
  [
    'pep440: final release',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=pep440,pattern={{major}}.{{minor}}\ntype=pep440,pattern={{raw}}' },
    ['1.2', 'v1.2.3', 'latest'],
    '1.2',
    true,
  ],
  // match
  ['match: whole match', ghEnv('push', 'refs/tags/v1.2.3'), { tags: 'type=match,pattern=\\d.\\d.\\d' }, ['1.2.3', 'latest'], '1.2.3', true],
  [
    'match: group 1 keeps pre-release and latest',
    ghEnv('push', 'refs/tags/v2.0.8-beta.67'),
    { tags: 'type=match,pattern=v(.*),group=1' },
    ['2.0.8-beta.67', 'latest'],
    '2.0.8-beta.67',
    true,
  ],
  ['match: partial group', ghEnv('push', 'refs/tags/v2.0.8-beta.67'), { tags: 'type=match,pattern=v(\\d.\\d),group=1' }, ['2.0', 'latest'], '2.0', true],
  ['match: digits', ghEnv('push', 'refs/tags/20200110-RC2'), { tags: 'type=match,pattern=\\d+' }, ['20200110', 'latest'], '20200110', true],
  ['match: slash in tag', ghEnv('push', 'refs/tags/p1/v1.2.3'), { tags: 'type=match,pattern=p1/v(\\d.\\d.\\d),group=1' }, ['1.2.3', 'latest'], '1.2.3', true],
  ['match: /regex/flags form', ghEnv('push', 'refs/tags/V1.2.3'), { tags: 'type=match,pattern=/v(\\d+)/i,group=1' }, ['1', 'latest'], '1', true],
  ['match: no match', ghEnv('push', 'refs/tags/v1.2.3'), { tags: 'type=match,pattern=^x(\\d),group=1' }, [], '', false],
  // edge
  ['edge: default branch', ghEnv('push', 'refs/heads/main'), { tags: 'type=edge' }, ['edge'], 'edge', false],
  ['edge: other branch', ghEnv('push', 'refs/heads/feature'), { tags: 'type=edge' }, [], '', false],
  ['edge: branch attribute', ghEnv('push', 'refs/heads/develop'), { tags: 'type=edge,branch=develop' }, ['edge'], 'edge', false],
  // sha
  ['sha: short with default prefix', ghEnv('push', 'refs/heads/main'), { tags: 'type=sha' }, ['sha-860c190'], 'sha-860c190', false],
  ['sha: long', ghEnv('push', 'refs/heads/main'), { tags: 'type=sha,format=long' }, [`sha-${SHA}`], `sha-${SHA}`, false],
  ['sha: branch prefix expression', ghEnv('push', 'refs/heads/main'), { tags: 'type=sha,prefix={{branch}}-' }, ['main-860c190'], 'main-860c190', false],
  [
    'sha: DOCKER_METADATA_SHORT_SHA_LENGTH',
    ghEnv('push', 'refs/heads/main', { extra: { DOCKER_METADATA_SHORT_SHA_LENGTH: '12' } }),
    { tags: 'type=sha' },
    ['sha-860c1904a1ce'],
    'sha-860c1904a1ce',
    false,
  ],
  [
    'sha: PR head SHA when asked',
    ghEnv('pull_request', 'refs/pull/7/merge', {
      payload: { pull_request: { number: 7, head: { sha: HEAD_SHA }, base: { ref: 'main' } } },
      extra: { DOCKER_METADATA_PR_HEAD_SHA: 'true' },
    }),
    { tags: 'type=ref,event=pr\ntype=sha' },
    ['pr-7', 'sha-abcdef0'],
    'pr-7',
    false,
  ],
  // raw and expressions
  [
    'raw: forms type=raw,value= / type=raw,x / bare',
    ghEnv('push', 'refs/heads/main'),
    { tags: 'type=raw,value=foo\ntype=raw,bar\nbaz' },
    ['foo', 'bar', 'baz'],
    'foo',
    false,
  ],
  [
    'raw: latest on default branch via enable',
    ghEnv('push', 'refs/heads/main'),
    { tags: 'type=raw,value=latest,enable={{is_default_branch}}' },
    ['latest'],
    'latest',
    false,
  ],
  [
    'raw: enable false off the default branch',
    ghEnv('push', 'refs/heads/feature'),
    { tags: 'type=raw,value=latest,enable={{is_default_branch}}\ntype=raw,value=dev,enable={{is_not_default_branch}}' },
    ['dev'],
    'dev',
    false,
  ],
  [
    'raw: schedule counts as default branch',
    ghEnv('schedule', 'refs/heads/feature'),
    { tags: 'type=raw,value=x,enable={{is_default_branch}}' },
    ['x'],
    'x',
    false,
  ],
  [
    'raw: {{base_ref}} and {{sha}} on a PR',
    ghEnv('pull_request', 'refs/pull/2/merge', { payload: { pull_request: { number: 2, base: { ref: 'main' } } } }),
    { tags: 'type=raw,value={{base_ref}}-{{sha}}' },
    ['main-860c190'],
    'main-860c190',
    false,
  ],
  [
    'raw: {{branch}} empty on a PR gives no tag',
    ghEnv('pull_request', 'refs/pull/2/merge'),
    { tags: 'type=raw,value={{branch}}\ntype=ref,event=pr' },
    ['pr-2'],
    'pr-2',
    false,
  ],
  ['raw: {{tag}} on a tag push', ghEnv('push', 'refs/tags/v3.0.0'), { tags: 'type=raw,value=release-{{tag}}' }, ['release-v3.0.0'], 'release-v3.0.0', false],
  ['raw: date expression', ghEnv('push', 'refs/heads/main'), { tags: "type=raw,value={{date 'YYYY.MM.DD'}}" }, ['2020.01.10'], '2020.01.10', false],
  // flavor
  [
    'flavor: latest=true on a branch',
    ghEnv('push', 'refs/heads/main'),
    { tags: 'type=ref,event=branch', flavor: 'latest=true' },
    ['main', 'latest'],
    'main',
    true,
  ],
  [
    'flavor: latest=false on a release',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}', flavor: 'latest=false' },
    ['1.2.3'],
    '1.2.3',
    false,
  ],
  [
    'flavor: prefix skips rules with their own default prefix',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}\ntype=sha', flavor: 'prefix=foo-' },
    ['foo-1.2.3', 'sha-860c190', 'latest'],
    'foo-1.2.3',
    true,
  ],
  [
    'flavor: prefix onlatest',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}', flavor: 'prefix=foo-,onlatest=true' },
    ['foo-1.2.3', 'foo-latest'],
    'foo-1.2.3',
    true,
  ],
  [
    'flavor: suffix applies to sha and pr (no default suffix)',
    ghEnv('pull_request', 'refs/pull/2/merge'),
    { tags: 'type=ref,event=pr\ntype=sha', flavor: 'suffix=-alpine' },
    ['pr-2-alpine', 'sha-860c190-alpine'],
    'pr-2-alpine',
    false,
  ],
  [
    'flavor: suffix onlatest',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}', flavor: 'latest=auto\nsuffix=-alpine,onlatest=true' },
    ['1.2.3-alpine', 'latest-alpine'],
    '1.2.3-alpine',
    true,
  ],
  [
    'flavor: explicit empty rule prefix beats flavor prefix',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}},prefix=\ntype=semver,pattern={{major}}', flavor: 'prefix=foo-' },
    ['1.2.3', 'foo-1', 'latest'],
    '1.2.3',
    true,
  ],
  // priorities and latest decision
  [
    'priority: sha first decides version and (no) latest',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}\ntype=sha,priority=1001' },
    ['sha-860c190', '1.2.3'],
    'sha-860c190',
    false,
  ],
  [
    'priority: ref/tag outranks raw',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=raw,value=foo\ntype=ref,event=tag' },
    ['v1.2.3', 'foo', 'latest'],
    'v1.2.3',
    true,
  ],
  ['priority: same priority keeps input order', ghEnv('push', 'refs/heads/main'), { tags: 'type=raw,value=b\ntype=raw,value=a' }, ['b', 'a'], 'b', false],
  [
    'duplicates removed',
    ghEnv('push', 'refs/tags/v1.2.3'),
    { tags: 'type=semver,pattern={{version}}\ntype=raw,value=1.2.3\ntype=raw,value=latest' },
    ['1.2.3', 'latest'],
    '1.2.3',
    true,
  ],
  // sanitisation and our OCI extras
  ['sanitise: invalid characters', ghEnv('push', 'refs/heads/main'), { tags: 'type=raw,value=foo bar/baz@qux' }, ['foo-bar-baz-qux'], 'foo-bar-baz-qux', false],
  [
    'OCI: leading . and - stripped',
    ghEnv('push', 'refs/heads/.hidden'),
    { tags: 'type=ref,event=branch\ntype=raw,value=-dash' },
    ['hidden', 'dash'],
    'hidden',
    false,
  ],
  ['OCI: a tag of only separators is dropped', ghEnv('push', 'refs/heads/main'), { tags: 'type=raw,value=--\ntype=raw,value=ok' }, ['ok'], 'ok', false],
];

for (const [name, env, input, expected, version, latest] of CASES) {
  test(`parity: ${name}`, () => {
    const result = computeMetadata({ images: input.images ?? 'name/app', tags: input.tags, flavor: input.flavor, env, now: NOW });
    assert.deepEqual(
      result.tags,
      expected.map((t) => `name/app:${t}`),
    );
    assert.deepEqual(result.tagNames, expected);
    assert.equal(result.version, version);
    assert.equal(result.latest, latest);
  });
}

test('table is large enough to count as a parity suite', () => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
});

test('OCI: tags longer than 128 characters are truncated deterministically with a hash suffix', () => {
  const env = ghEnv('push', 'refs/heads/main');
  const a = computeMetadata({ tags: `type=raw,value=${long(200)}`, env, now: NOW }).tagNames[0];
  const again = computeMetadata({ tags: `type=raw,value=${long(200)}`, env, now: NOW }).tagNames[0];
  const b = computeMetadata({ tags: `type=raw,value=${long(199)}b`, env, now: NOW }).tagNames[0];
  assert.equal(a.length, 128);
  assert.match(a, /^a{119}-[0-9a-f]{8}$/);
  assert.equal(a, again);
  assert.notEqual(a, b);
  assert.equal(computeMetadata({ tags: `type=raw,value=${long(128)}`, env, now: NOW }).tagNames[0], long(128));
  const branch = computeMetadata({ env: ghEnv('push', `refs/heads/feature/${long(150, 'x')}`), now: NOW }).version;
  assert.equal(branch.length, 128);
  assert.ok(branch.startsWith('feature-xxx'));
});

test('images: lower-cased, comma list, name=/enable=, duplicates removed, none -> bare tags', () => {
  const env = ghEnv('push', 'refs/heads/main');
  assert.deepEqual(computeMetadata({ images: 'Name/App,ghcr.io/Acme/Shop', env, now: NOW }).tags, ['name/app:main', 'ghcr.io/acme/shop:main']);
  assert.deepEqual(computeMetadata({ images: 'name=name/app\nname=ghcr.io/x/y,enable=false\nNAME/app', env, now: NOW }).tags, ['name/app:main']);
  assert.deepEqual(computeMetadata({ images: ['a/b', 'localhost:5000/c'], env, now: NOW }).tags, ['a/b:main', 'localhost:5000/c:main']);
  assert.deepEqual(computeMetadata({ images: 'name=a/b,enable={{is_default_branch}}', env, now: NOW }).tags, ['a/b:main']);
  assert.deepEqual(computeMetadata({ env, now: NOW }).tags, ['main']);
  assert.deepEqual(computeMetadata({ images: '# comment\n\n  a/b  \n', env, now: NOW }).tags, ['a/b:main']);
});

test('labels: OCI set from context and package.json, custom labels override, empty ones omitted', () => {
  const env = ghEnv('push', 'refs/tags/v1.2.3', { extra: { GITHUB_SERVER_URL: 'https://ghe.example.com/', SOURCE_DATE_EPOCH: '1578616200' } });
  const pkg = path.join(scratch, 'package.json');
  writeFileSync(pkg, JSON.stringify({ name: 'catalog', description: 'Product catalog', license: 'Apache-2.0' }));
  const r = computeMetadata({
    images: 'a/b',
    tags: 'type=semver,pattern={{version}}',
    packageJson: pkg,
    labels: 'org.opencontainers.image.vendor=Acme, Inc.\norg.opencontainers.image.title=Catalog {{tag}}',
    env,
  });
  assert.deepEqual(r.labels, {
    'org.opencontainers.image.created': '2020-01-10T00:30:00.000Z',
    'org.opencontainers.image.description': 'Product catalog',
    'org.opencontainers.image.licenses': 'Apache-2.0',
    'org.opencontainers.image.revision': SHA,
    'org.opencontainers.image.source': 'https://ghe.example.com/acme/shop',
    'org.opencontainers.image.title': 'Catalog v1.2.3',
    'org.opencontainers.image.url': 'https://ghe.example.com/acme/shop',
    'org.opencontainers.image.vendor': 'Acme, Inc.',
    'org.opencontainers.image.version': '1.2.3',
  });
  assert.deepEqual(Object.keys(r.labels), Object.keys(r.labels).sort());
});

test('labels: from the event payload repository without a project; from --project package.json with one', () => {
  const env = ghEnv('push', 'refs/heads/main', {
    payload: {
      repository: { name: 'shop', description: 'Shop monorepo', html_url: 'https://github.com/acme/shop', license: { spdx_id: 'MIT' }, default_branch: 'main' },
    },
  });
  const r = computeMetadata({ env, now: NOW });
  assert.equal(r.labels['org.opencontainers.image.title'], 'shop');
  assert.equal(r.labels['org.opencontainers.image.description'], 'Shop monorepo');
  assert.equal(r.labels['org.opencontainers.image.licenses'], 'MIT');
  assert.equal(r.labels['org.opencontainers.image.created'], NOW.toISOString());

  const root = path.join(scratch, 'ws');
  for (const dir of ['apps/orders', 'docker/base']) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'ws', license: 'MIT' }));
  writeFileSync(path.join(root, 'apps/orders/project.json'), JSON.stringify({ name: 'orders' }));
  writeFileSync(path.join(root, 'apps/orders/package.json'), JSON.stringify({ name: 'orders', description: 'Orders service' }));
  writeFileSync(path.join(root, 'docker/base/project.json'), JSON.stringify({ name: 'base-image' }));
  const orders = computeMetadata({ project: 'orders', workspaceRoot: root, env, now: NOW }).labels;
  assert.equal(orders['org.opencontainers.image.title'], 'orders');
  assert.equal(orders['org.opencontainers.image.description'], 'Orders service');
  assert.equal(orders['org.opencontainers.image.licenses'], 'MIT', 'license falls back to the root package.json');
  const base = computeMetadata({ project: 'base-image', workspaceRoot: root, env, now: NOW }).labels;
  assert.equal(base['org.opencontainers.image.title'], 'base-image');
  assert.equal(base['org.opencontainers.image.description'], undefined);
  assert.throws(() => computeMetadata({ project: 'nope', workspaceRoot: root, env, now: NOW }), /unknown project "nope"/);
});

test('this workspace: --project resolves apps/<p> and docker/base', () => {
  const env = ghEnv('push', 'refs/heads/main');
  const catalog = computeMetadata({ project: 'catalog', env, now: NOW }).labels;
  assert.equal(catalog['org.opencontainers.image.title'], 'catalog');
  assert.ok(catalog['org.opencontainers.image.licenses']);
  assert.equal(computeMetadata({ project: 'base-image', env, now: NOW }).labels['org.opencontainers.image.title'], 'base-image');
});

test('context: readGitHubContext maps env and payload; null outside Actions', () => {
  assert.equal(readGitHubContext({}), null);
  const ctx = readGitHubContext(ghEnv('pull_request_target', 'refs/heads/main', { payload: { number: 9, repository: { default_branch: 'main' } } }));
  assert.equal(ctx.ref, 'refs/pull/9/merge');
  assert.equal(ctx.sha, SHA);
  assert.equal(ctx.defaultBranch, 'main');
  assert.equal(ctx.repoUrl, 'https://github.com/acme/shop');
  const bare = readGitHubContext({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' });
  assert.equal(bare.sha, '');
  assert.equal(bare.repoUrl, '');
  // Missing SHA / repository only matter to rules that need them.
  const r = computeMetadata({ images: 'a/b', env: { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' }, now: NOW });
  assert.deepEqual(r.tags, ['a/b:x']);
  assert.equal(r.labels['org.opencontainers.image.revision'], undefined);
  assert.throws(() => computeMetadata({ tags: 'type=sha', env: { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/x' }, now: NOW }), /needs the commit SHA/);
});

const BAD = [
  ['unknown rule type', { tags: 'type=foo' }, /unknown tag rule type "foo"/],
  ['unknown attribute', { tags: 'type=sha,formt=long' }, /unknown attribute "formt" for type=sha/],
  ['semver without pattern', { tags: 'type=semver' }, /missing pattern=/],
  ['match without pattern', { tags: 'type=match,group=1' }, /missing pattern=/],
  ['ref without event', { tags: 'type=ref' }, /missing event=/],
  ['ref bad event', { tags: 'type=ref,event=push' }, /event= must be branch, tag or pr/],
  ['sha bad format', { tags: 'type=sha,format=medium' }, /format= must be short or long/],
  ['raw without value', { tags: 'type=raw,prefix=x' }, /missing value=/],
  ['bad priority', { tags: 'type=raw,value=x,priority=high' }, /priority= must be an integer/],
  ['enable not boolean', { tags: 'type=raw,value=x,enable=yes' }, /enable= must render to true or false/],
  ['enable expression not boolean', { tags: 'type=raw,value=x,enable={{branch}}' }, /enable= must render to true or false, got "main"/],
  ['unknown expression', { tags: 'type=raw,value={{nope}}' }, /unknown expression \{\{nope\}\}/],
  ['malformed attribute', { tags: 'type=raw,=x' }, /malformed attribute/],
  ['duplicate attribute', { tags: 'type=raw,value=a,value=b' }, /duplicate attribute "value"/],
  ['unterminated quote', { tags: 'type=raw,"value=a' }, /unterminated quote/],
  ['bad regex', { tags: 'type=match,pattern=v(' }, /invalid regular expression/],
  ['group out of range', { tags: 'type=match,pattern=v(\\d),group=2' }, /group=2 but the pattern has 1 group/],
  ['bad date tz', { tags: "type=raw,value={{date 'YYYY' tz='Mars/Base'}}" }, /unknown time zone/],
  ['invalid image name', { images: 'ghcr.io/acme/shop:latest' }, /invalid image name/],
  ['image with spaces', { images: 'my image' }, /invalid image name/],
  ['unknown image attribute', { images: 'name=a/b,tag=x' }, /unknown image attribute "tag"/],
  ['image enable not boolean', { images: 'name=a/b,enable=maybe' }, /enable= must render to true or false/],
  ['bad latest flavor', { flavor: 'latest=sometimes' }, /latest= must be auto, true or false/],
  ['unknown flavor', { flavor: 'colour=blue' }, /unknown flavor "colour"/],
  ['onlatest without prefix', { flavor: 'onlatest=true' }, /onlatest= must follow prefix= or suffix=/],
  ['bad label', { labels: 'no-equals-sign' }, /invalid label/],
  ['edge without default branch', { tags: 'type=edge', env: { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' } }, /needs the default branch/],
  [
    'pull_request_target without PR number',
    { env: { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_REF: 'refs/heads/main' } },
    /pull_request_target needs the PR number/,
  ],
  ['GITHUB_SHA not a SHA', { env: { GITHUB_EVENT_NAME: 'push', GITHUB_SHA: 'abc' } }, /GITHUB_SHA is not a full commit SHA/],
  ['GITHUB_EVENT_PATH unreadable', { env: { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '/nonexistent/event.json' } }, /cannot read GITHUB_EVENT_PATH/],
  ['Actions without event name', { env: { GITHUB_ACTIONS: 'true' } }, /GITHUB_EVENT_NAME is empty/],
  ['bad SOURCE_DATE_EPOCH', { env: { GITHUB_EVENT_NAME: 'push', SOURCE_DATE_EPOCH: 'yesterday' }, now: null }, /SOURCE_DATE_EPOCH must be whole seconds/],
];

for (const [name, input, message] of BAD) {
  test(`bad input: ${name}`, () => {
    assert.throws(
      () => computeMetadata({ now: NOW, env: ghEnv('push', 'refs/heads/main'), ...input }),
      (error) => error.name === 'CliError' && error.exitCode === 2 && message.test(error.message) && !error.message.includes('\n'),
    );
  });
}

// ---- CLI ----

function runCli(args, env, options = {}) {
  const r = runTool(TOOL, args, { cwd: process.cwd(), env: cleanEnv(env), ...options });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: tag push with a semver rule prints JSON with version, tags and latest', () => {
  const r = runCli(['--images', 'ghcr.io/acme/shop/catalog', '--tags', 'type=semver,pattern={{version}}'], {
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/tags/v1.2.3',
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'acme/shop',
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out), ['version', 'tags', 'labels']);
  assert.equal(out.version, '1.2.3');
  assert.deepEqual(out.tags, ['ghcr.io/acme/shop/catalog:1.2.3', 'ghcr.io/acme/shop/catalog:latest']);
  assert.equal(out.labels['org.opencontainers.image.source'], 'https://github.com/acme/shop');
  assert.equal(out.labels['org.opencontainers.image.revision'], SHA);
  assert.equal(out.labels['org.opencontainers.image.version'], '1.2.3');
  assert.equal(r.stderr, '');
});

test('CLI: --flag=value form, repeated list flags, --project labels', () => {
  const r = runCli(['--images=a/b', '--images', 'c/d', '--tags', 'type=raw,value=one', '--tags=type=raw,value=two', '--project', 'catalog'], {
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: SHA,
    SOURCE_DATE_EPOCH: '0',
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.tags, ['a/b:one', 'a/b:two', 'c/d:one', 'c/d:two']);
  assert.equal(out.labels['org.opencontainers.image.title'], 'catalog');
  assert.equal(out.labels['org.opencontainers.image.created'], '1970-01-01T00:00:00.000Z');
});

/** Parses a GITHUB_OUTPUT file (name<<DELIM ... DELIM and name=value lines). */
function parseOutputFile(text) {
  const out = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      assert.ok(end > i, `unterminated output ${heredoc[1]}`);
      out[heredoc[1]] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i].includes('=')) {
      out[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1);
    }
  }
  return out;
}

test('CLI: with GITHUB_OUTPUT writes version, tags, labels, json as multi-line outputs (random delimiter)', () => {
  const file = path.join(scratch, 'github-output.txt');
  writeFileSync(file, 'earlier=kept\n');
  const env = {
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/tags/v1.2.3',
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_OUTPUT: file,
    SOURCE_DATE_EPOCH: '1578616200',
  };
  const r = runCli(['--images', 'ghcr.io/acme/shop/catalog', '--tags', 'type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}'], env);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^earlier=kept\n/);
  assert.match(text, /tags<<ghadelimiter_[0-9a-f-]{36}\n/);
  const out = parseOutputFile(text);
  assert.equal(out.earlier, 'kept');
  assert.equal(out.version, '1.2.3');
  assert.equal(out.tags, 'ghcr.io/acme/shop/catalog:1.2.3\nghcr.io/acme/shop/catalog:1.2\nghcr.io/acme/shop/catalog:latest');
  assert.equal(out['tag-names'], '1.2.3\n1.2\nlatest');
  assert.ok(out.labels.split('\n').includes('org.opencontainers.image.version=1.2.3'));
  assert.ok(out.labels.split('\n').includes('org.opencontainers.image.created=2020-01-10T00:30:00.000Z'));
  assert.deepEqual(JSON.parse(out.json), JSON.parse(r.stdout));
});

const CLI_BAD = [
  ['unknown flag', ['--imagez', 'a/b'], {}, /unknown flag --imagez/],
  ['flag without value', ['--images'], {}, /--images needs a value/],
  ['positional argument', ['a/b'], {}, /unexpected argument 'a\/b' \(see --help\)$/],
  ['unknown rule type', ['--tags', 'type=nope'], {}, /unknown tag rule type "nope"/],
  ['malformed rule', ['--tags', 'type=semver,value=v1'], {}, /missing pattern=/],
  ['enable not true/false', ['--tags', 'type=raw,value=x,enable={{sha}}'], {}, /enable= must render to true or false/],
  ['invalid image', ['--images', 'UPPER/../x'], {}, /invalid image name/],
  ['missing context (Actions without event)', [], { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: '' }, /GITHUB_EVENT_NAME is empty/],
  ['missing context (PR target payload)', [], { GITHUB_EVENT_NAME: 'pull_request_target', GITHUB_REF: 'refs/heads/main' }, /needs the PR number/],
  ['sha rule without SHA', ['--tags', 'type=sha'], { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: '' }, /needs the commit SHA/],
  ['both --project and --package-json', ['--project', 'a', '--package-json', 'b'], {}, /not both/],
];

for (const [name, args, env, message] of CLI_BAD) {
  test(`CLI bad input: ${name} -> one line, exit 2`, () => {
    const r = runTool(TOOL, args, { cwd: process.cwd(), env: cleanEnv({ GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_SHA: SHA, ...env }) });
    assertOneLineError(r, { tool: 'docker-metadata', message, what: name });
  });
}

test('CLI: --help exits 0; warnings go to stderr without failing', () => {
  const help = runCli(['--help'], {});
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: node tools\/docker-metadata\.mjs/);
  const warn = runCli(['--tags', 'type=semver,pattern={{version}}'], { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/nightly-build' });
  assert.equal(warn.code, 0);
  assert.deepEqual(JSON.parse(warn.stdout).tags, []);
  assert.match(warn.stderr, /^docker-metadata: warning: nightly-build is not a valid semver/);
});

// ---- local git fallback ----

function gitRepo() {
  const dir = mkdtempSync(path.join(scratch, 'repo-'));
  const git = gitIn(dir, cleanEnv({ GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }));
  git('init', '-q', '-b', 'feature/x');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'T');
  git('config', 'commit.gpgsign', 'false');
  writeFileSync(path.join(dir, 'f.txt'), 'x\n');
  git('add', 'f.txt');
  git('commit', '-q', '-m', 'init');
  return { dir, git };
}

test('local git fallback: branch, tag at HEAD, sha, credential-free remote URL', () => {
  const { dir, git } = gitRepo();
  const sha = git('rev-parse', 'HEAD');
  git('remote', 'add', 'origin', 'https://user:s3cret@github.com/Acme/Shop.git');
  let r = runCli(['--images', 'a/b', '--tags', 'type=ref,event=branch\ntype=sha'], {}, { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  let out = JSON.parse(r.stdout);
  assert.deepEqual(out.tags, ['a/b:feature-x', `a/b:sha-${sha.slice(0, 7)}`]);
  assert.equal(out.labels['org.opencontainers.image.revision'], sha);
  assert.equal(out.labels['org.opencontainers.image.source'], 'https://github.com/Acme/Shop');
  assert.ok(!r.stdout.includes('s3cret'));

  git('tag', 'v1.0.0');
  git('tag', 'v1.1.0');
  r = runCli(['--images', 'a/b', '--tags', 'type=semver,pattern={{version}}'], {}, { cwd: dir });
  out = JSON.parse(r.stdout);
  assert.deepEqual(out.tags, ['a/b:1.1.0', 'a/b:latest'], 'highest semver tag at HEAD wins');

  const ctx = readGitContext({ cwd: dir, env: {} });
  assert.equal(ctx.eventName, 'push');
  assert.equal(ctx.ref, 'refs/tags/v1.1.0');
  assert.equal(ctx.repository, 'Acme/Shop');
  const overridden = readGitContext({ cwd: dir, env: { GITHUB_REF: 'refs/heads/main' } });
  assert.equal(overridden.ref, 'refs/heads/main');
});

test('local git fallback outside a checkout: empty context, only SHA rules fail', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'docker-metadata-nogit-'));
  try {
    const ok = runCli(['--images', 'a/b', '--tags', 'type=raw,value=local'], { GIT_CEILING_DIRECTORIES: path.dirname(dir) }, { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).tags, ['a/b:local']);
    const bad = runCli(['--images', 'a/b', '--tags', 'type=sha'], { GIT_CEILING_DIRECTORIES: path.dirname(dir) }, { cwd: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /needs the commit SHA/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- the action's own libraries: Handlebars, moment-timezone, csv-parse ----

test('expressions: any moment.js token and zone, Handlebars comments and escapes; values are not HTML-escaped', () => {
  const tagNames = (tags, env = ghEnv('push', 'refs/heads/main')) => computeMetadata({ tags, env, now: NOW }).tagNames;
  assert.deepEqual(tagNames("type=raw,value={{date 'YYYYMMDD-hhmm A'}}"), ['20200110-1230-AM']);
  assert.deepEqual(tagNames("type=raw,value={{date 'dddd-Do' tz='America/New_York'}}"), ['Thursday-9th']);
  assert.deepEqual(tagNames("type=raw,value={{date 'YYYY-[week]-WW'}}"), ['2020-week-02']);
  assert.deepEqual(tagNames('type=raw,value=v{{! a note }}1\\{{kept}}'), ['v1-kept-']);
  assert.deepEqual(tagNames('type=semver,pattern={{ raw }}', ghEnv('push', 'refs/tags/v2.0.8-beta.67')), ['v2.0.8-beta.67']);
  const amp = computeMetadata({ tags: 'type=raw,value={{branch}}', labels: 'org.example.branch={{branch}}', env: ghEnv('push', 'refs/heads/a&b'), now: NOW });
  assert.deepEqual(amp.tagNames, ['a-b']);
  assert.equal(amp.labels['org.example.branch'], 'a&b');
});

test('fields: csv-parse quoting (commas protected, "" is a quote, a quote inside a field is text)', () => {
  const env = ghEnv('push', 'refs/tags/v1.23.4');
  assert.deepEqual(computeMetadata({ tags: 'type=match,"pattern=\\d{1,2}\\.\\d{1,3}"', env, now: NOW }).tagNames, ['1.23', 'latest']);
  assert.deepEqual(computeMetadata({ tags: 'type=raw,"value=a""b"', env, now: NOW }).tagNames, ['a-b']);
  assert.deepEqual(computeMetadata({ labels: 'org.example.quote=say "hi", twice', env, now: NOW }).labels['org.example.quote'], 'say "hi", twice');
});

const BAD_EXPRESSIONS = [
  ['unquoted zone', "type=raw,value={{date 'YYYY' tz=Asia/Tokyo}}", /quote the value, e\.g\. tz='Asia\/Tokyo'/],
  ['block helper', 'type=raw,value={{#if branch}}x{{/if}}', /Handlebars blocks are not supported/],
  ['partial', 'type=raw,value={{> other}}', /Handlebars partials are not supported/],
  ['unclosed expression', 'type=raw,value=a{{branch', /malformed expression in "a\{\{branch": Parse error/],
  ['empty expression', 'type=raw,value={{}}', /malformed expression in "\{\{\}\}"/],
  ['sub-expression', 'type=raw,value={{date (branch)}}', /malformed expression \{\{date \(\.\.\.\)\}\}/],
  ['path expression', 'type=raw,value={{branch.name}}', /unknown expression \{\{branch\.name\}\}/],
  ['data variable', 'type=raw,value={{@root}}', /unknown expression \{\{@root\}\}/],
  ['format without argument', 'type=raw,value={{commit_date}}', /takes one format argument/],
  ['unknown date attribute', "type=raw,value={{date 'YYYY' zone='UTC'}}", /unknown attribute zone= in \{\{date\}\}/],
  ['quote after a closing quote', 'type=raw,"value"=x', /malformed list entry/],
];

for (const [name, tags, message] of BAD_EXPRESSIONS) {
  test(`bad expression: ${name} -> one-line CliError, exit 2`, () => {
    assert.throws(
      () => computeMetadata({ tags, env: ghEnv('push', 'refs/heads/main'), now: NOW }),
      (error) => error.name === 'CliError' && error.exitCode === 2 && message.test(error.message) && !error.message.includes('\n'),
    );
  });
}

test('fields: a quoted field is trimmed inside its quotes as well, as the action trims every field', () => {
  const env = ghEnv('push', 'refs/heads/main');
  assert.deepEqual(computeMetadata({ tags: 'type=raw," foo "\n"  bar  "', env, now: NOW }).tagNames, ['foo', 'bar']);
  assert.deepEqual(computeMetadata({ images: '" a/b " , c/d', env, now: NOW }).tags, ['a/b:main', 'c/d:main']);
});
