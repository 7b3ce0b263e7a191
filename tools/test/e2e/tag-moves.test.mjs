// Tags never move backwards (tools/lib/tag-moves.mjs through tools/tag.mjs): the rules on labels alone, then on a real
// registry (Debian's docker-registry on 127.0.0.1, no Docker Engine) with a throwaway git history of two commits,
// a release, a backport tag and a re-run of an old main run. A refused run leaves every tag as it was.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { recordPath } from '../../lib/build-record.mjs';
import { registryClient } from '../../lib/registry.mjs';
import { backwardsReason, REVISION_LABEL, VERSION_LABEL } from '../../lib/tag-moves.mjs';
import { tag } from '../../tag.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';
import { startLocalRegistry } from '../support/local-registry.mjs';
import { pushSyntheticImage } from '../support/synthetic-image.mjs';
import { assertOneLineError, gitIn, runTool } from '../support/run-tool.mjs';

const TAG_TOOL = path.join(workspaceRoot, 'tools/tag.mjs');
const labels = (version, revision) => ({ [VERSION_LABEL]: version, [REVISION_LABEL]: revision });

describe('backwardsReason: the rules on labels', () => {
  const ancestry = { isAncestor: async (older, newer) => (older === 'a' && newer === 'b' ? true : older === 'b' && newer === 'a' ? false : null) };
  for (const [what, tagName, held, next, expected] of [
    ['latest to a higher release', 'latest', labels('1.2.0', 'a'), labels('1.3.0', 'b'), null],
    ['latest to a lower release (backport)', 'latest', labels('1.2.0', 'b'), labels('1.1.9', 'a'), /latest holds 1\.2\.0; 1\.1\.9 is not higher/],
    ['latest to the same version', 'latest', labels('1.2.0', 'b'), labels('1.2.0', 'b'), /not higher/],
    ['latest to a branch build', 'latest', labels('1.2.0', 'a'), labels('main', 'b'), /only to a release/],
    ['a release tag to a lower version', '1', labels('1.2.0', 'b'), labels('1.1.9', 'a'), /holds 1\.2\.0; 1\.1\.9 is lower/],
    ['a release tag to the same version (re-run)', '1.2', labels('1.2.0', 'a'), labels('1.2.0', 'a'), null],
    ['edge to a descendant commit', 'edge', labels('main', 'a'), labels('main', 'b'), null],
    ['edge to the same commit (refresh)', 'edge', labels('main', 'a'), labels('main', 'a'), null],
    ['edge to an older commit (re-run)', 'edge', labels('main', 'b'), labels('main', 'a'), /holds commit b; a does not descend from it/],
    ['main to a commit git cannot compare', 'main', labels('main', 'a'), labels('main', 'c'), /cannot compare .*fetch the full history/],
    ['a branch tag to an image without a revision', 'main', labels('main', 'a'), { [VERSION_LABEL]: 'main' }, /names no commit/],
  ]) {
    test(`${what}: ${expected ? 'refused' : 'allowed'}`, async () => {
      const reason = await backwardsReason(tagName, held, next, ancestry);
      if (expected) assert.match(reason ?? '', expected);
      else assert.equal(reason, null);
    });
  }
});

describe('tools/tag.mjs on a registry: latest and edge never move back', () => {
  let registry;
  let repo;
  let commits;
  const projects = [];
  const repository = 'acme/shop/tagmoves';

  before(async () => {
    registry = await startLocalRegistry();
    repo = mkdtempSync(path.join(os.tmpdir(), 'tag-moves-git-'));
    const git = gitIn(repo);
    git('init', '-q', '-b', 'main');
    for (const [key, value] of [
      ['user.name', 'test'],
      ['user.email', 'test@example.invalid'],
      ['commit.gpgsign', 'false'],
    ])
      git('config', key, value);
    git('commit', '-q', '--allow-empty', '-m', 'one');
    const older = git('rev-parse', 'HEAD');
    git('commit', '-q', '--allow-empty', '-m', 'two');
    commits = { older, newer: git('rev-parse', 'HEAD') };
  });
  after(async () => {
    await registry?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
    for (const project of projects) rmSync(recordPath(project), { force: true });
  });

  /** A pushed, scanned image with these labels, and its record asking for `tags`. */
  async function gatedImage(name, imageLabels, tags) {
    const image = await pushSyntheticImage(registry.host, repository, { labels: imageLabels, seed: name });
    const project = `tag-moves-${name}-${process.pid}`;
    projects.push(project);
    const platformDigest = image.platforms['linux/amd64'];
    const record = {
      project,
      image: `${registry.host}/${repository}`,
      tags: tags.map((t) => `${registry.host}/${repository}:${t}`),
      imageId: `sha256:${'e'.repeat(64)}`,
      labels: imageLabels,
      digest: image.digest,
      platforms: { 'linux/amd64': { digest: platformDigest } },
      pushed: { image: `${registry.host}/${repository}`, digest: image.digest, tags: [] },
      scan: {
        digest: image.digest,
        passed: true,
        platforms: { 'linux/amd64': { digest: platformDigest, passed: true, runtime: { verdict: 'pass' } } },
      },
    };
    mkdirSync(path.dirname(recordPath(project)), { recursive: true });
    writeFileSync(recordPath(project), JSON.stringify(record));
    return { project, digest: image.digest };
  }
  const held = async (tagName) => (await registryClient(registry.host).getManifest(repository, tagName))?.digest ?? null;

  test('main: edge/main move to a descendant; a re-run of the older commit is refused and moves nothing', async () => {
    const first = await gatedImage('main-older', labels('main', commits.older), ['edge', 'main']);
    await tag(first.project, { gitDir: repo });
    const second = await gatedImage('main-newer', labels('main', commits.newer), ['edge', 'main']);
    await tag(second.project, { gitDir: repo });
    assert.equal(await held('edge'), second.digest);
    assert.equal(await held('main'), second.digest);

    const rerun = await gatedImage('main-rerun', labels('main', commits.older), ['edge', 'main', `sha-${commits.older.slice(0, 7)}`]);
    const refused = runTool(TAG_TOOL, [rerun.project], { cwd: repo });
    assertOneLineError(refused, { tool: 'tag', code: 1, message: /edge holds commit .*does not descend from it \(an older run\); no tag was moved/ });
    assert.equal(await held('edge'), second.digest, 'edge unchanged');
    assert.equal(await held('main'), second.digest, 'main unchanged');
    assert.equal(await held(`sha-${commits.older.slice(0, 7)}`), null, 'not even the new tag was written');
  });

  test('the same commit again (the daily refresh) moves edge; so does --follow-head for a rewritten PR branch', async () => {
    const refresh = await gatedImage('main-refresh', labels('main', commits.newer), ['edge']);
    await tag(refresh.project, { gitDir: repo });
    assert.equal(await held('edge'), refresh.digest);
    const forced = await gatedImage('pr-forced', labels('pr-7', commits.newer), ['pr-7']);
    await tag(forced.project, { gitDir: repo });
    const rewritten = await gatedImage('pr-rewritten', labels('pr-7', commits.older), ['pr-7']);
    await assert.rejects(tag(rewritten.project, { gitDir: repo }), /pr-7 holds commit/);
    await tag(rewritten.project, { gitDir: repo, followHead: true });
    assert.equal(await held('pr-7'), rewritten.digest);
  });

  test('releases: latest moves to v1.2.0; the backport v1.1.9 is refused and tags nothing; v1.3.0 takes latest', async () => {
    const release = await gatedImage('v1-2-0', labels('1.2.0', commits.newer), ['1.2.0', '1.2', 'latest']);
    await tag(release.project, { gitDir: repo });
    assert.equal(await held('latest'), release.digest);

    const backport = await gatedImage('v1-1-9', labels('1.1.9', commits.older), ['1.1.9', '1.1', 'latest']);
    const refused = runTool(TAG_TOOL, [backport.project], { cwd: repo });
    assertOneLineError(refused, { tool: 'tag', code: 1, message: /latest latest holds 1\.2\.0; 1\.1\.9 is not higher; no tag was moved/ });
    assert.equal(await held('latest'), release.digest, 'latest unchanged');
    assert.equal(await held('1.1.9'), null, 'nothing written');

    const next = await gatedImage('v1-3-0', labels('1.3.0', commits.newer), ['1.3.0', '1.3', 'latest']);
    await tag(next.project, { gitDir: repo });
    assert.equal(await held('latest'), next.digest);
  });

  test('--release refuses a scan whose Node.js runtime gate was skipped, before any registry call', async () => {
    const skipped = await gatedImage('skipped', labels('1.4.0', commits.newer), ['1.4.0']);
    const file = recordPath(skipped.project);
    const record = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8'));
    record.scan.platforms['linux/amd64'].runtime = { version: '24.0.0', verdict: 'skipped' };
    writeFileSync(file, JSON.stringify(record));
    const refused = runTool(TAG_TOOL, [skipped.project, '--release'], { cwd: repo });
    assertOneLineError(refused, { tool: 'tag', code: 1, message: /runtime gate was skipped for linux\/amd64, and a release needs it/ });
    assert.equal(await held('1.4.0'), null);
    // Counter-example: without --release (a local pipeline run that chose to skip), the same record is tagged.
    const local = runTool(TAG_TOOL, [skipped.project], { cwd: repo });
    assert.equal(local.status, 0, local.stderr);
    assert.equal(await held('1.4.0'), skipped.digest);
  });
});
