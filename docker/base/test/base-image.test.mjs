// Proves the hardening claims of the shared base image on the image itself (distroless-style: the test beside the recipe),
// for every variant: the native build (nx run-many -t docker-build), the foreign architecture (arm64 here) built with
// the qemu binfmt handler OFF (no emulated RUN) and run with it on, and bookworm through the one build arg DEBIAN_IMAGE.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireDocker, docker } from '../../../tools/lib/docker-engine.mjs';
import { builtImage, imageFiles, inspectImage } from '../../../tools/test/support/image-inspection.mjs';
import { nodeVersion } from '../../../tools/lib/node-version.mjs';
import { debianImageFor } from '../../../tools/lib/base-images.mjs';
import { dockerBuild } from '../../../tools/test/support/run-tool.mjs';
import { FOREIGN, buildForeign, holdEmulation, requireEmulation, withoutEmulation } from './support/foreign-arch.mjs';

const FORBIDDEN = [
  '/bin/sh',
  '/bin/bash',
  '/bin/dash',
  '/usr/bin/apt',
  '/usr/bin/apt-get',
  '/usr/bin/dpkg',
  '/usr/bin/perl',
  '/usr/local/bin/npm',
  '/usr/local/bin/npx',
  '/usr/local/bin/corepack',
];
// Dependencies only maintainer scripts use (none runs in an assembled image); the Dockerfile's SCRIPT_ONLY_DEPENDENCIES.
const SCRIPT_ONLY = new Set(['awk', 'debconf', 'debconf-2.0', 'openssl']);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'base-variants-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The variants, each resolved to a build record before its tests run. */
const VARIANTS = [
  { name: 'native', arch: os.arch() === 'arm64' ? 'arm64' : 'amd64', suite: 'trixie', record: async () => builtImage('base-image') },
  {
    name: FOREIGN.arch,
    arch: FOREIGN.arch,
    suite: 'trixie',
    emulated: true,
    record: async () => {
      await requireDocker();
      requireEmulation();
      return withoutEmulation(async () => {
        const record = await buildForeign('base-image');
        // the handler really is off during the build: a foreign binary cannot start now
        const probe = await docker(['run', '--rm', record.tags[0], '-e', '0'], { reject: false });
        assert.notEqual(probe.exitCode, 0, `a ${FOREIGN.arch} container started with the binfmt handler off: the build could have been emulated`);
        return record;
      });
    },
  },
  {
    name: 'bookworm',
    arch: os.arch() === 'arm64' ? 'arm64' : 'amd64',
    suite: 'bookworm',
    record: async () => {
      await requireDocker();
      const file = path.join(scratch, 'bookworm.json');
      const image = `${process.env.IMAGE_PREFIX || 'secure-ci'}/base-image`;
      await dockerBuild([
        'base-image',
        '--build-arg',
        `DEBIAN_IMAGE=${debianImageFor('bookworm')}`,
        '--tags',
        'type=raw,value=bookworm',
        '--image',
        image,
        '--record',
        file,
      ]);
      return JSON.parse(readFileSync(file, 'utf8'));
    },
  },
];

for (const variant of VARIANTS)
  describe(`base image (${variant.name})`, () => {
    let ref;
    let config;
    let files;
    const paths = () => new Set(files.map((f) => f.path));
    let release;
    before(async () => {
      await requireDocker();
      ref = (await variant.record()).tags[0];
      // its tests run the image: no other process may switch the handler off until they are done
      if (variant.emulated) release = await holdEmulation();
      config = await inspectImage(ref);
      files = await imageFiles(ref);
    });
    after(() => release?.());

    test(`is a ${variant.arch} image on Debian ${variant.suite}`, async () => {
      assert.equal(config.Architecture, variant.arch);
      const osRelease = await docker(['run', '--rm', ref, '-p', "require('fs').readFileSync('/etc/os-release','utf8')"]);
      assert.match(osRelease, new RegExp(`^VERSION_CODENAME=${variant.suite}$`, 'm'));
    });

    test('runs as the numeric non-root user 65532:65532', () => {
      assert.equal(config.Config.User, '65532:65532');
    });

    test('has no shell, package manager, npm/npx/corepack or Node.js headers', () => {
      assert.deepEqual(
        FORBIDDEN.filter((p) => paths().has(p)),
        [],
      );
      assert.deepEqual(
        files.filter((f) => /^\/(usr\/)?s?bin\//.test(f.path) && f.type !== 'Directory').map((f) => f.path),
        [],
        'no executables in /bin, /sbin, /usr/bin, /usr/sbin',
      );
      assert.equal(
        files.some((f) => f.path.startsWith('/usr/local/include') || f.path.startsWith('/usr/local/lib/node_modules')),
        false,
      );
    });

    test('has no setuid or setgid files', () => {
      assert.deepEqual(
        files.filter((f) => f.type === 'File' && f.mode & 0o6000).map((f) => f.path),
        [],
      );
    });

    test('passwd and group know root, nobody and nonroot, all with nologin shells', async () => {
      const passwd = await docker(['run', '--rm', '--entrypoint', '/usr/local/bin/node', ref, '-p', "require('fs').readFileSync('/etc/passwd','utf8')"]);
      const users = Object.fromEntries(
        passwd
          .split('\n')
          .map((line) => line.split(':'))
          .map((f) => [f[0], { uid: f[2], shell: f[6] }]),
      );
      assert.deepEqual(Object.keys(users).sort(), ['nobody', 'nonroot', 'root']);
      assert.equal(users.nonroot.uid, '65532');
      assert.equal(users.nobody.uid, '65534');
      for (const user of Object.values(users)) assert.equal(user.shell, '/sbin/nologin');
    });

    test('runs Node.js 24 with CA certificates and time zones', async () => {
      const script =
        "const fs=require('fs');console.log(JSON.stringify({v:process.versions.node,ca:fs.statSync('/etc/ssl/certs/ca-certificates.crt').size,tz:new Intl.DateTimeFormat('en',{timeZone:'Europe/Paris'}).resolvedOptions().timeZone}))";
      const out = JSON.parse(await docker(['run', '--rm', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', ref, '-e', script]));
      assert.match(out.v, /^24\./);
      assert.ok(out.ca > 100_000, 'CA bundle present');
      assert.equal(out.tz, 'Europe/Paris');
    });

    test("ships the tzdata zone files (Node's Intl has its own ICU data; other runtimes and libc need these)", () => {
      for (const zone of ['/usr/share/zoneinfo/Europe/Paris', '/usr/share/zoneinfo/America/New_York', '/usr/share/zoneinfo/Etc/UTC'])
        assert.ok(paths().has(zone), zone);
      assert.equal(files.find((f) => f.path === '/etc/localtime')?.linkpath, '/usr/share/zoneinfo/Etc/UTC');
    });

    test('carries OCI labels from its package.json', () => {
      const labels = config.Config.Labels ?? {};
      for (const key of ['title', 'description', 'licenses', 'revision', 'source', 'created', 'version'])
        assert.ok(labels[`org.opencontainers.image.${key}`], key);
      assert.equal(labels['org.opencontainers.image.title'], 'base-image');
    });

    test("declares the one Node.js version (.node-version) and runs exactly it, on the image's architecture", async () => {
      assert.ok(config.Config.Env.includes(`NODE_VERSION=${nodeVersion()}`), config.Config.Env.join(' '));
      const out = JSON.parse(
        await docker([
          'run',
          '--rm',
          '--read-only',
          '--cap-drop',
          'ALL',
          '--security-opt',
          'no-new-privileges',
          ref,
          '-p',
          'JSON.stringify([process.versions.node, process.arch])',
        ]),
      );
      assert.deepEqual(out, [nodeVersion(), { amd64: 'x64', arm64: 'arm64' }[variant.arch]]);
    });

    test('has no setuid or setgid directories either (distroless parity: /var/local is 0755 root)', () => {
      assert.deepEqual(
        files.filter((f) => f.mode & 0o6000).map((f) => `${f.path} ${f.mode.toString(8)}`),
        [],
      );
      assert.equal(files.find((f) => f.path === '/var/local')?.mode & 0o7777, 0o755);
    });

    test('dpkg records cover the whole dependency closure (Depends/Pre-Depends) of what is unpacked, netbase included', async () => {
      const out = await docker([
        'run',
        '--rm',
        ref,
        '-p',
        "const fs=require('fs');const d='/var/lib/dpkg/status.d/';JSON.stringify(Object.fromEntries(fs.readdirSync(d).map(f=>[f,fs.readFileSync(d+f,'utf8')])))",
      ]);
      const records = Object.entries(JSON.parse(out)).map(([file, text]) => ({
        file,
        fields: Object.fromEntries(text.split(/\n(?=\S)/).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])),
      }));
      const names = new Set(records.map((r) => r.fields.Package));
      for (const { file, fields } of records) {
        assert.equal(file, fields.Package);
        assert.ok(['all', variant.arch].includes(fields.Architecture), `${file}: Architecture ${fields.Architecture}`);
      }
      const missing = [];
      for (const { fields } of records) {
        for (const dep of [fields.Depends, fields['Pre-Depends']].filter(Boolean).flatMap((d) => d.split(','))) {
          const alternatives = dep.split('|').map((a) => a.trim().split(/[\s(:]/)[0]);
          if (!alternatives.some((a) => names.has(a) || SCRIPT_ONLY.has(a))) missing.push(`${fields.Package} -> ${dep.trim()}`);
        }
      }
      assert.deepEqual(missing, []);
      const gccBase = variant.suite === 'bookworm' ? 'gcc-12-base' : 'gcc-14-base';
      for (const pkg of ['netbase', gccBase]) assert.ok(names.has(pkg), pkg);
      for (const file of ['/etc/services', '/etc/protocols']) assert.ok(paths().has(file), file);
    });

    test('keeps dpkg metadata so scanners still see the packages', () => {
      const status = files.filter((f) => f.path.startsWith('/var/lib/dpkg/status.d/')).map((f) => f.path.split('/').pop());
      for (const pkg of ['libc6', 'libstdc++6', 'libgcc-s1', 'ca-certificates', 'tzdata', 'base-files']) assert.ok(status.includes(pkg), `status.d/${pkg}`);
      assert.ok(
        files.some((f) => f.path === '/etc/os-release' || f.path === '/usr/lib/os-release'),
        'os-release for OS detection',
      );
    });

    test('names its Node.js runtime, with the version of the binary it runs, in an SBOM document scanners read', async () => {
      const script =
        "console.log(JSON.stringify({v:process.versions.node,arch:process.arch,sbom:JSON.parse(require('fs').readFileSync('/usr/local/share/sbom/nodejs.cdx.json','utf8'))}))";
      const { v, arch, sbom } = JSON.parse(await docker(['run', '--rm', ref, '-e', script]));
      assert.equal(sbom.bomFormat, 'CycloneDX');
      const [node] = sbom.components;
      assert.equal(node.name, 'node');
      assert.equal(node.version, v, "the recorded version is the running binary's");
      assert.equal(node.purl, `pkg:bitnami/node@${v}?arch=${{ x64: 'amd64', arm64: 'arm64' }[arch]}`);
    });

    test('uses exec-form ENTRYPOINT and HEALTHCHECK (no shell needed)', () => {
      assert.deepEqual(config.Config.Entrypoint, ['/usr/local/bin/node']);
      assert.equal(config.Config.Healthcheck.Test[0], 'CMD');
    });
  });
