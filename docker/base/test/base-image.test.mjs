// Proves the hardening claims of the shared base image on the image itself (distroless-style: the test beside the recipe).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { requireDocker, docker } from '../../../tools/lib/docker-engine.mjs';
import { builtImage, imageFiles, inspectImage } from '../../../tools/lib/image-inspection.mjs';

const FORBIDDEN = ['/bin/sh', '/bin/bash', '/bin/dash', '/usr/bin/apt', '/usr/bin/apt-get', '/usr/bin/dpkg', '/usr/bin/perl', '/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack'];

describe('base image', () => {
  let ref;
  let config;
  let files;
  before(async () => {
    await requireDocker();
    ref = builtImage('base-image').tags[0];
    config = await inspectImage(ref);
    files = await imageFiles(ref);
  });

  test('runs as the numeric non-root user 65532:65532', () => {
    assert.equal(config.Config.User, '65532:65532');
  });

  test('has no shell, package manager, npm/npx/corepack or Node.js headers', () => {
    const paths = new Set(files.map((file) => file.path));
    assert.deepEqual(FORBIDDEN.filter((p) => paths.has(p)), []);
    assert.deepEqual(files.filter((f) => /^\/(usr\/)?s?bin\//.test(f.path) && f.type !== 'Directory').map((f) => f.path), [], 'no executables in /bin, /sbin, /usr/bin, /usr/sbin');
    assert.equal(files.some((f) => f.path.startsWith('/usr/local/include') || f.path.startsWith('/usr/local/lib/node_modules')), false);
  });

  test('has no setuid or setgid files', () => {
    assert.deepEqual(files.filter((f) => f.type === 'File' && f.mode & 0o6000).map((f) => f.path), []);
  });

  test('passwd and group know root, nobody and nonroot, all with nologin shells', async () => {
    const passwd = await docker(['run', '--rm', '--entrypoint', '/usr/local/bin/node', ref, '-p', "require('fs').readFileSync('/etc/passwd','utf8')"]);
    const users = Object.fromEntries(passwd.split('\n').map((line) => line.split(':')).map((f) => [f[0], { uid: f[2], shell: f[6] }]));
    assert.deepEqual(Object.keys(users).sort(), ['nobody', 'nonroot', 'root']);
    assert.equal(users.nonroot.uid, '65532');
    assert.equal(users.nobody.uid, '65534');
    for (const user of Object.values(users)) assert.equal(user.shell, '/sbin/nologin');
  });

  test('runs Node.js 24 with CA certificates and time zones', async () => {
    const script = "const fs=require('fs');console.log(JSON.stringify({v:process.versions.node,ca:fs.statSync('/etc/ssl/certs/ca-certificates.crt').size,tz:new Intl.DateTimeFormat('en',{timeZone:'Europe/Paris'}).resolvedOptions().timeZone}))";
    const out = JSON.parse(await docker(['run', '--rm', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', ref, '-e', script]));
    assert.match(out.v, /^24\./);
    assert.ok(out.ca > 100_000, 'CA bundle present');
    assert.equal(out.tz, 'Europe/Paris');
  });

  test('ships the tzdata zone files (Node\'s Intl has its own ICU data; other runtimes and libc need these)', () => {
    const paths = new Set(files.map((f) => f.path));
    for (const zone of ['/usr/share/zoneinfo/Europe/Paris', '/usr/share/zoneinfo/America/New_York', '/usr/share/zoneinfo/Etc/UTC']) assert.ok(paths.has(zone), zone);
    assert.equal(files.find((f) => f.path === '/etc/localtime')?.linkpath, '/usr/share/zoneinfo/Etc/UTC');
  });

  test('carries OCI labels from its package.json', () => {
    const labels = config.Config.Labels ?? {};
    for (const key of ['title', 'description', 'licenses', 'revision', 'source', 'created', 'version']) assert.ok(labels[`org.opencontainers.image.${key}`], key);
    assert.equal(labels['org.opencontainers.image.title'], 'base-image');
  });

  test('keeps dpkg metadata so scanners still see the packages', () => {
    const status = files.filter((f) => f.path.startsWith('/var/lib/dpkg/status.d/')).map((f) => f.path.split('/').pop());
    for (const pkg of ['libc6', 'libstdc++6', 'libgcc-s1', 'ca-certificates', 'tzdata', 'base-files']) assert.ok(status.includes(pkg), `status.d/${pkg}`);
    assert.ok(files.some((f) => f.path === '/etc/os-release' || f.path === '/usr/lib/os-release'), 'os-release for OS detection');
  });

  test('names its Node.js runtime, with the version of the binary it runs, in an SBOM document scanners read', async () => {
    const script = "console.log(JSON.stringify({v:process.versions.node,arch:process.arch,sbom:JSON.parse(require('fs').readFileSync('/usr/local/share/sbom/nodejs.cdx.json','utf8'))}))";
    const { v, arch, sbom } = JSON.parse(await docker(['run', '--rm', ref, '-e', script]));
    assert.equal(sbom.bomFormat, 'CycloneDX');
    const [node] = sbom.components;
    assert.equal(node.name, 'node');
    assert.equal(node.version, v, 'the recorded version is the running binary\'s');
    assert.equal(node.purl, `pkg:bitnami/node@${v}?arch=${{ x64: 'amd64', arm64: 'arm64' }[arch]}`);
  });

  test('uses exec-form ENTRYPOINT and HEALTHCHECK (no shell needed)', () => {
    assert.deepEqual(config.Config.Entrypoint, ['/usr/local/bin/node']);
    assert.equal(config.Config.Healthcheck.Test[0], 'CMD');
  });
});
