// A real Trivy against every image `nx run-many -t docker-build` built, through tools/scan.mjs (the gate the
// workflows run). Offline: Trivy's DB cannot be downloaded here, so the tests write a small one
// (tools/test/support/real-trivy.mjs), and the Node.js release index is a fixture.
//   - SBOMs (CycloneDX and SPDX JSON, beside the build record) list every Debian package, every package under
//     /app/node_modules and the Node.js runtime with its real version
//   - secret scanning finds a token planted in a deliberately bad image, and nothing in ours
//   - `trivy config` on both Dockerfiles: 0 failures
//   - the vulnerability gate: a fixable HIGH advisory for a Debian package of ours fails with scan.mjs's findings exit
//     code; a .trivyignore entry with a future exp: lets it pass, an expired one fails again; an unfixed CRITICAL
//     advisory never fails the gate; the SARIF report lists the finding
//   - the runtime gate: a newer security release of our Node.js line fails the gate, naming the version
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, requireDocker } from '../../../tools/lib/docker-engine.mjs';
import { builtImage } from '../../../tools/test/support/image-inspection.mjs';
import { run, runAsync, runTool } from '../../../tools/test/support/run-tool.mjs';
import { workspaceRoot } from '../../../tools/lib/workspace.mjs';
import { FINDINGS_EXIT_CODE } from '../../../tools/scan.mjs';
import { fixtureTrivyCache, nodeReleaseIndex, trivyBinary } from '../../../tools/test/support/real-trivy.mjs';

const SERVICES = readdirSync(path.join(workspaceRoot, 'apps')).filter((name) => existsSync(path.join(workspaceRoot, 'apps', name, 'project.json')));
const IMAGES = ['base-image', ...SERVICES];
// Fixture advisories for packages every image has (the source package names Debian's tracker uses).
const FIXABLE = { id: 'CVE-2099-0001', package: 'tzdata', severity: 'HIGH', fixed: '9999a-1', title: 'fixture: fixable HIGH in tzdata' };
const UNFIXED = { id: 'CVE-2099-0002', package: 'ca-certificates', severity: 'CRITICAL', title: 'fixture: unfixed CRITICAL in ca-certificates' };

let trivy;
let scratch;
let cleanCache;
let vulnerableCache;
let currentIndex;
let setupError;
const ready = () => {
  if (setupError) throw setupError;
};

before(async () => {
  try {
    await requireDocker();
    trivy = await trivyBinary();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'trivy-test-'));
    cleanCache = fixtureTrivyCache([], { dir: path.join(scratch, 'clean') });
    vulnerableCache = fixtureTrivyCache([FIXABLE, UNFIXED], { dir: path.join(scratch, 'vulnerable') });
    currentIndex = nodeReleaseIndex(scratch).file;
  } catch (error) {
    setupError = error;
  }
});
after(() => scratch && rmSync(scratch, { recursive: true, force: true }));

function scanCli(args, { cache = cleanCache, index = currentIndex } = {}) {
  const result = runTool('tools/scan.mjs', args, {
    env: { ...process.env, TRIVY_BIN: trivy, TRIVY_CACHE_DIR: cache, TRIVY_SKIP_DB_UPDATE: 'true', NODE_RELEASE_INDEX: index },
  });
  // Trivy logs to stderr; scan.mjs's own verdict is the last line.
  const verdict = result.stderr.trim().split('\n').pop() ?? '';
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, verdict, output: `${result.stdout}\n${result.stderr}` };
}

/** What is really in an image: its dpkg records, its node_modules packages and the Node.js version it runs. */
async function imageContents(ref) {
  const script = `const fs=require('fs'),p=require('path');
const debs=fs.readdirSync('/var/lib/dpkg/status.d').map(f=>{const t=fs.readFileSync('/var/lib/dpkg/status.d/'+f,'utf8');return {name:/^Package: (.+)$/m.exec(t)[1],version:/^Version: (.+)$/m.exec(t)[1]}});
const npm=[];const walk=d=>{if(!fs.existsSync(d))return;for(const e of fs.readdirSync(d)){if(e.startsWith('.'))continue;const full=p.join(d,e);if(e.startsWith('@')){walk(full);continue}const pj=p.join(full,'package.json');if(fs.existsSync(pj)){const j=JSON.parse(fs.readFileSync(pj,'utf8'));if(j.name&&j.version)npm.push({name:j.name,version:j.version})}walk(p.join(full,'node_modules'))}};
walk('/app/node_modules');console.log(JSON.stringify({debs,npm,node:process.versions.node}))`;
  return JSON.parse(await docker(['run', '--rm', '--entrypoint', '/usr/local/bin/node', ref, '-e', script]));
}

describe('real Trivy: every image passes the gate and its SBOMs show everything in it', () => {
  const scanned = {};
  before(() => {
    if (setupError) return;
    for (const project of IMAGES) scanned[project] = scanCli([project]);
  });

  for (const project of IMAGES) {
    test(`${project}: the gate passes (clean DB, current Node.js) and the build record holds the scan of this image`, () => {
      ready();
      const run = scanned[project];
      assert.equal(run.status, 0, run.output.slice(-3000));
      assert.match(run.stdout, new RegExp(`scan: ${project}: passed: no fixable HIGH,CRITICAL vulnerabilities, no secrets, Node\\.js runtime current`));
      const record = builtImage(project);
      assert.equal(record.scan.passed, true);
      assert.equal(record.scan.digest, record.imageId);
      assert.deepEqual(Object.keys(record.scan.platforms), ['linux/amd64']);
    });

    test(`${project}: CycloneDX and SPDX SBOMs list every Debian package, every node_modules package and Node.js`, async () => {
      ready();
      const record = builtImage(project);
      const contents = await imageContents(record.imageId);
      assert.ok(contents.debs.length >= 6, 'the image has dpkg records');
      if (project !== 'base-image') assert.ok(contents.npm.length > 10, `${project} has node_modules packages`);
      const { sbom } = record.scan.platforms['linux/amd64'];
      const cdx = JSON.parse(readFileSync(path.join(workspaceRoot, sbom.cyclonedx), 'utf8'));
      const spdx = JSON.parse(readFileSync(path.join(workspaceRoot, sbom.spdx), 'utf8'));
      assert.equal(cdx.bomFormat, 'CycloneDX');
      assert.match(spdx.spdxVersion, /^SPDX-2\./);
      const inCdx = new Set(cdx.components.map((c) => `${c.name}@${c.version}`));
      const inSpdx = new Set(spdx.packages.map((p) => `${p.name}@${p.versionInfo}`));
      const expected = [...contents.debs, ...contents.npm, { name: 'node', version: contents.node }].map((p) => `${p.name}@${p.version}`);
      assert.deepEqual(
        expected.filter((p) => !inCdx.has(p)),
        [],
        'missing from the CycloneDX SBOM',
      );
      assert.deepEqual(
        expected.filter((p) => !inSpdx.has(p)),
        [],
        'missing from the SPDX SBOM',
      );
      const runtime = cdx.components.find((c) => c.purl?.startsWith('pkg:bitnami/node@'));
      assert.equal(runtime?.version, contents.node, 'the runtime with the version the image really runs');
      assert.equal(record.scan.platforms['linux/amd64'].runtime.version, contents.node);
    });
  }

  test('our images have no secrets (a secret-only Trivy scan reports none)', async () => {
    ready();
    for (const project of IMAGES) {
      const result = await runAsync(trivy, ['image', '--scanners', 'secret', '--format', 'json', '--quiet', builtImage(project).imageId], {
        env: { ...process.env, TRIVY_CACHE_DIR: cleanCache },
      });
      assert.equal(result.status, 0, result.stderr);
      const secrets = (JSON.parse(result.stdout).Results ?? []).flatMap((r) => r.Secrets ?? []);
      assert.deepEqual(
        secrets.map((s) => `${s.RuleID} ${s.Title}`),
        [],
        project,
      );
    }
  });
});

describe('real Trivy: secret scanning', () => {
  const ref = `${process.env.IMAGE_PREFIX || 'secure-ci'}-trivy-test/leaky:${process.pid}`;
  after(async () => docker(['image', 'rm', ref], { reject: false }));

  test('a token planted in a deliberately bad image fails the gate', async () => {
    ready();
    const context = path.join(scratch, 'leaky');
    mkdirSync(context);
    // A GitHub token's shape, random on every run (not a real credential).
    const token = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    writeFileSync(path.join(context, 'config.js'), `module.exports = { githubToken: '${token}' };\n`);
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${builtImage('base-image').tags[0]}\nCOPY config.js /app/config.js\n`);
    await docker(['build', '-q', '-t', ref, context]);
    const run = scanCli(['leaky', '--ref', ref, '--sbom-dir', scratch]);
    assert.equal(run.status, FINDINGS_EXIT_CODE, run.output.slice(-3000));
    assert.match(run.stdout, /github-pat|GitHub Personal Access Token/i);
    assert.match(run.stdout, /\/app\/config\.js|app\/config\.js/);
    assert.match(run.verdict, /^scan: error: leaky: image: fixable HIGH,CRITICAL vulnerabilities or secrets found/);
    assert.equal(run.output.includes(token), false, 'Trivy masks the secret it found');
  });
});

describe('real Trivy: Dockerfile checks', () => {
  for (const dockerfile of ['docker/base/Dockerfile', 'docker/service/Dockerfile']) {
    test(`trivy config ${dockerfile}: its checks pass, 0 failures`, () => {
      ready();
      const result = run(trivy, ['config', '--skip-policy-update', '--format', 'json', '--quiet', dockerfile], {
        env: { ...process.env, TRIVY_CACHE_DIR: cleanCache },
      });
      assert.equal(result.status, 0, result.stderr);
      const [summary] = JSON.parse(result.stdout).Results.map((r) => r.MisconfSummary);
      assert.equal(
        summary.Failures,
        0,
        JSON.stringify(
          JSON.parse(result.stdout)
            .Results[0].Misconfigurations?.filter((m) => m.Status === 'FAIL')
            .map((m) => m.ID),
        ),
      );
      assert.ok(summary.Successes >= 20, `the embedded checks ran (${summary.Successes} passed)`);
    });
  }
});

describe('real Trivy: the vulnerability gate with a fixture DB', () => {
  const base = () => builtImage('base-image').imageId;
  const ignoreFile = (name, text) => {
    const file = path.join(scratch, name);
    writeFileSync(file, text);
    return file;
  };
  const gate = (extra = []) => scanCli(['base-image', '--ref', base(), '--sbom-dir', scratch, ...extra], { cache: vulnerableCache });
  let plain;
  const plainGate = () => (plain ??= gate());

  test("a fixable HIGH advisory for one of our Debian packages fails the gate with scan.mjs's findings exit code", () => {
    ready();
    const run = plainGate();
    assert.equal(run.status, FINDINGS_EXIT_CODE, run.output.slice(-3000));
    assert.match(run.stdout, /CVE-2099-0001/);
    assert.match(run.verdict, /^scan: error: base-image: image: fixable HIGH,CRITICAL vulnerabilities or secrets found/);
  });

  test('the unfixed CRITICAL advisory in the same DB is not a gate finding (--ignore-unfixed)', () => {
    ready();
    assert.doesNotMatch(plainGate().stdout, /CVE-2099-0002/);
  });

  test('a .trivyignore entry with a future exp: lets it pass; an expired one fails it again', () => {
    ready();
    const future = ignoreFile(
      'future.trivyignore',
      `# fixture: accepted until next year, decided by the tests\n${FIXABLE.id} exp:${new Date().getUTCFullYear() + 1}-12-31\n`,
    );
    const accepted = gate(['--ignorefile', future]);
    assert.equal(accepted.status, 0, accepted.output.slice(-3000));
    assert.doesNotMatch(accepted.stdout, /CVE-2099-0001/);
    const expired = ignoreFile('expired.trivyignore', `# fixture: accepted once, expired since\n${FIXABLE.id} exp:2020-01-01\n`);
    const again = gate(['--ignorefile', expired]);
    assert.equal(again.status, FINDINGS_EXIT_CODE, again.output.slice(-3000));
    assert.match(again.stdout, /CVE-2099-0001/);
  });

  test('the SARIF report lists the finding and does not fail', () => {
    ready();
    const file = path.join(scratch, 'report.sarif');
    const run = gate(['--sarif', file]);
    assert.equal(run.status, 0, run.output.slice(-3000));
    const sarif = JSON.parse(readFileSync(file, 'utf8'));
    const rules = sarif.runs.flatMap((r) => r.results.map((x) => x.ruleId));
    assert.ok(rules.includes(FIXABLE.id), rules.join(', '));
  });

  test('a newer security release of our Node.js line fails the gate, naming the version to move to', () => {
    ready();
    const behind = nodeReleaseIndex(scratch, { securityRelease: true });
    const run = scanCli(['base-image', '--ref', base(), '--sbom-dir', scratch], { index: behind.file });
    assert.equal(run.status, FINDINGS_EXIT_CODE, run.output.slice(-3000));
    assert.match(
      run.verdict,
      new RegExp(
        `^scan: error: .*Node\\.js ${behind.version.replaceAll('.', '\\.')} is behind security release ${behind.next.replaceAll('.', '\\.')}: move to ${behind.next.replaceAll('.', '\\.')}`,
      ),
    );
  });
});
