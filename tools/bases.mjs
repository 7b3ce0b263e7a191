#!/usr/bin/env node
// Makes the upstream base images the Dockerfiles build FROM available on this machine.
// Where they can be pulled, nothing else happens. Where they cannot (an air-gapped or registry-less machine),
// equivalent local images are bootstrapped from Debian packages (debootstrap) and the Node.js binary published on
// the npm registry, and their refs are written to dist/docker/bases.json, which tools/docker-build.mjs passes as
// build args. The Dockerfiles stay unchanged: only the refs differ.
//
// Usage: node tools/bases.mjs [--offline] [--force]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from './lib/exec.mjs';
import { dockerEnv, requireDocker } from './lib/docker-engine.mjs';
import { dockerfileArgDefaults } from './lib/dockerfile-args.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

const OFFLINE_REPO = 'localhost/offline';
const DEBIAN_MIRROR = process.env.DEBIAN_MIRROR || 'http://deb.debian.org/debian';
// Bump when the recipe below changes, so idempotent runs rebuild the offline images.
const RECIPE = '1';

export const basesFile = path.join(workspaceRoot, 'dist/docker/bases.json');

/** Upstream refs as pinned in the base Dockerfile. */
export function upstreamRefs() {
  const args = dockerfileArgDefaults(path.join(workspaceRoot, 'docker/base/Dockerfile'));
  if (!args.DEBIAN_IMAGE || !args.NODE_IMAGE) fail('docker/base/Dockerfile must declare ARG DEBIAN_IMAGE and ARG NODE_IMAGE defaults');
  return { DEBIAN_IMAGE: args.DEBIAN_IMAGE, NODE_IMAGE: args.NODE_IMAGE };
}

/** `node:24.21.0-bookworm-slim` -> { nodeVersion: '24.21.0', suite: 'bookworm' } */
export function parseNodeRef(ref) {
  const match = /:(\d+\.\d+\.\d+)-([a-z]+)/.exec(ref);
  if (!match) fail(`cannot read an exact Node.js version and Debian suite from NODE_IMAGE '${ref}' (expected node:X.Y.Z-<suite>-slim)`);
  return { nodeVersion: match[1], suite: match[2] };
}

async function docker(toolchain, args, options = {}) {
  return execa(toolchain.client, args, { env: dockerEnv(toolchain), ...options });
}

async function imageLabel(toolchain, ref, label) {
  const result = await docker(toolchain, ['image', 'inspect', '--format', `{{index .Config.Labels "${label}"}}`, ref], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

async function available(toolchain, ref) {
  if ((await docker(toolchain, ['image', 'inspect', ref], { reject: false })).exitCode === 0) return true;
  return (await docker(toolchain, ['pull', '--quiet', ref], { reject: false })).exitCode === 0;
}

async function bootstrapDebian(toolchain, ref, suite, fingerprint) {
  if ((await imageLabel(toolchain, ref, 'org.secure-ci.offline.fingerprint')) === fingerprint) return false;
  if (!existsSync('/usr/sbin/debootstrap')) fail('debootstrap is not installed: apt-get install -y debootstrap (bootstrapping offline base images needs it)');
  const rootfs = path.join(workspaceRoot, 'tmp/bases', `debian-${suite}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  console.log(`bases: debootstrap --variant=minbase ${suite} (about 30 s)`);
  await execa('debootstrap', ['--variant=minbase', suite, rootfs, DEBIAN_MIRROR]);
  // Same apt sources an upstream debian image has, security updates included.
  writeFileSync(
    path.join(rootfs, 'etc/apt/sources.list'),
    `deb ${DEBIAN_MIRROR} ${suite} main\ndeb ${DEBIAN_MIRROR} ${suite}-updates main\ndeb http://deb.debian.org/debian-security ${suite}-security main\n`,
  );
  rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  await execa('sh', ['-c', `tar -C "${rootfs}" -c . | "${toolchain.client}" import --change 'CMD ["bash"]' --change 'LABEL org.secure-ci.offline.fingerprint=${fingerprint}' - ${ref}`], {
    env: dockerEnv(toolchain),
  });
  rmSync(rootfs, { recursive: true, force: true });
  return true;
}

async function bootstrapNode(toolchain, ref, debianRef, nodeVersion, fingerprint) {
  if ((await imageLabel(toolchain, ref, 'org.secure-ci.offline.fingerprint')) === fingerprint) return false;
  const { extract } = await import('tar');
  const context = path.join(workspaceRoot, 'tmp/bases', `node-${nodeVersion}`);
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!arch) fail(`no Node.js binary package for architecture ${process.arch}`);
  const npmVersion = process.env.OFFLINE_NPM_VERSION || '11';
  console.log(`bases: fetching node-linux-${arch}@${nodeVersion} and npm@${npmVersion} from the npm registry`);
  for (const spec of [`node-linux-${arch}@${nodeVersion}`, `npm@${npmVersion}`]) {
    const { stdout } = await execa('npm', ['pack', spec, '--silent', '--pack-destination', context]);
    const tarball = path.join(context, stdout.trim().split('\n').pop());
    const target = path.join(context, spec.startsWith('npm@') ? 'npm' : 'node');
    mkdirSync(target);
    await extract({ file: tarball, cwd: target, strip: 1 });
    rmSync(tarball);
  }
  writeFileSync(
    path.join(context, 'Dockerfile'),
    [
      `FROM ${debianRef}`,
      'COPY node/bin/node /usr/local/bin/node',
      'COPY npm /usr/local/lib/node_modules/npm',
      'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version',
      `LABEL org.secure-ci.offline.fingerprint=${fingerprint}`,
      'CMD ["node"]',
      '',
    ].join('\n'),
  );
  await docker(toolchain, ['build', '--quiet', '-t', ref, context]);
  rmSync(context, { recursive: true, force: true });
  return true;
}

export async function ensureBases({ offline = false, force = false } = {}) {
  const toolchain = await requireDocker();
  const upstream = upstreamRefs();
  if (!offline && (await available(toolchain, upstream.DEBIAN_IMAGE)) && (await available(toolchain, upstream.NODE_IMAGE))) {
    rmSync(basesFile, { force: true });
    console.log(`bases: upstream images available (${upstream.DEBIAN_IMAGE}, ${upstream.NODE_IMAGE})`);
    return upstream;
  }
  const { nodeVersion, suite } = parseNodeRef(upstream.NODE_IMAGE);
  const refs = {
    DEBIAN_IMAGE: `${OFFLINE_REPO}/debian:${suite}`,
    NODE_IMAGE: `${OFFLINE_REPO}/node:${nodeVersion}-${suite}`,
  };
  const salt = force ? String(Date.now()) : '';
  const debianFingerprint = createHash('sha256').update(`${RECIPE}|${suite}|${DEBIAN_MIRROR}|${salt}`).digest('hex').slice(0, 16);
  const nodeFingerprint = createHash('sha256').update(`${debianFingerprint}|${nodeVersion}|${process.env.OFFLINE_NPM_VERSION || '11'}`).digest('hex').slice(0, 16);
  const builtDebian = await bootstrapDebian(toolchain, refs.DEBIAN_IMAGE, suite, debianFingerprint);
  const builtNode = await bootstrapNode(toolchain, refs.NODE_IMAGE, refs.DEBIAN_IMAGE, nodeVersion, nodeFingerprint);
  mkdirSync(path.dirname(basesFile), { recursive: true });
  writeFileSync(basesFile, `${JSON.stringify({ upstream, offline: refs }, null, 2)}\n`);
  console.log(`bases: ${builtDebian || builtNode ? 'bootstrapped' : 'already present'}: ${refs.DEBIAN_IMAGE}, ${refs.NODE_IMAGE} (refs in ${path.relative(workspaceRoot, basesFile)})`);
  return refs;
}

/** Build-arg overrides docker-build should pass (empty when upstream images are used). */
export function offlineBaseArgs() {
  if (!existsSync(basesFile)) return {};
  return JSON.parse(readFileSync(basesFile, 'utf8')).offline ?? {};
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseCliArgs({ options: { offline: { type: 'boolean' }, force: { type: 'boolean' } } });
    await ensureBases(values);
  });
}
