// Finds what every image tool needs: a docker client with the buildx plugin, an engine that answers, Compose v2, and
// which image store the engine uses. That is what users and GitHub's runners have (Docker Engine >= 25 with buildx
// and Compose v2); anything older gets one line naming what to install. A client without buildx would silently fall
// back to the legacy builder, which rejects `RUN --mount=type=secret`, so it is refused rather than used.
import semver from 'semver';
import { CliError } from './errors.mjs';
import { $, describeFailure } from './process.mjs';

/** The oldest versions the tools accept (tested on Debian 13's engine 26.1.5, buildx 0.13.1, Compose 2.26.1). */
export const MINIMUM = Object.freeze({ engine: '25.0.0', buildx: '0.13.0', compose: '2.20.0' });
const INSTALL = 'https://docs.docker.com/engine/install/';

/** Trimmed stdout of a probe, or null when it fails or takes longer than 20 s. */
async function probe(cmd, args) {
  const output = await $({ nothrow: true, timeout: '20s' })`${cmd} ${args}`;
  return output.ok ? output.stdout.trim() : null;
}

/** "26.1.5+dfsg1" / "v0.13.1" / "github.com/docker/buildx 0.13.1+ds1 …" → "26.1.5" (null when none is in it). */
export function versionIn(text) {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(String(text ?? ''));
  return match ? `${match[1]}.${match[2]}.${match[3] ?? 0}` : null;
}

let cached;

/**
 * Detects the toolchain once per process (`{ fresh: true }` again, e.g. after the engine was restarted).
 * @returns {Promise<{client: string|null, serverVersion: string|null, buildxVersion: string|null,
 *   compose: string[]|null, composeVersion: string|null, imageStore: 'containerd'|'classic'|null}>}
 */
export async function detectDocker({ fresh = false } = {}) {
  if (cached && !fresh) return cached;
  const candidate = process.env.DOCKER_CLI || 'docker';
  const client = (await probe(candidate, ['--version'])) ? candidate : null;
  const [serverVersion, buildx, composeVersion, driverStatus] = client
    ? await Promise.all([
        probe(client, ['version', '--format', '{{.Server.Version}}']),
        probe(client, ['buildx', 'version']),
        probe(client, ['compose', 'version', '--short']),
        probe(client, ['info', '--format', '{{json .DriverStatus}}']),
      ])
    : [];
  cached = {
    client,
    serverVersion: serverVersion || null,
    buildxVersion: versionIn(buildx),
    compose: composeVersion ? [client, 'compose'] : null,
    composeVersion: composeVersion || null,
    imageStore: imageStoreOf(driverStatus),
  };
  return cached;
}

/**
 * 'containerd' when the engine keeps images in containerd's store (features.containerd-snapshotter, Docker 29's
 * default for new installs), 'classic' for the graph-driver store. It changes what an image ID is: in the containerd
 * store `docker image inspect .Id` is the manifest (or index) digest, in the classic store the config digest.
 */
export function imageStoreOf(driverStatus) {
  if (!driverStatus) return null;
  return /io\.containerd\.snapshotter/.test(driverStatus) ? 'containerd' : 'classic';
}

/** Environment for running the client. */
export function dockerEnv() {
  return { ...process.env };
}

const tooOld = (what, version, minimum) => version && semver.valid(version) && semver.lt(version, minimum);

/** One-line, actionable reasons why this machine cannot build or run images (empty when it can). */
export function toolchainProblems(toolchain, { needCompose = false, needBuildx = true } = {}) {
  const problems = [];
  if (!toolchain.client) return [`no docker client found: install Docker Engine >= ${MINIMUM.engine} with buildx and Compose v2 (${INSTALL})`];
  if (!toolchain.serverVersion)
    problems.push(`no Docker Engine answers ${toolchain.client}: start dockerd (e.g. 'sudo systemctl start docker') or set DOCKER_HOST`);
  else if (tooOld('engine', versionIn(toolchain.serverVersion), MINIMUM.engine))
    problems.push(`Docker Engine ${toolchain.serverVersion} is too old: install Docker Engine >= ${MINIMUM.engine} (${INSTALL})`);
  if (needBuildx && !toolchain.buildxVersion)
    problems.push(`no buildx plugin: install docker-buildx-plugin >= ${MINIMUM.buildx} (the legacy builder cannot mount build secrets)`);
  else if (needBuildx && tooOld('buildx', toolchain.buildxVersion, MINIMUM.buildx))
    problems.push(`buildx ${toolchain.buildxVersion} is too old: install docker-buildx-plugin >= ${MINIMUM.buildx}`);
  if (needCompose && !toolchain.compose) problems.push(`no Compose v2: install docker-compose-plugin >= ${MINIMUM.compose} ('docker compose')`);
  else if (needCompose && tooOld('compose', versionIn(toolchain.composeVersion), MINIMUM.compose))
    problems.push(`Compose ${toolchain.composeVersion} is too old: install docker-compose-plugin >= ${MINIMUM.compose}`);
  return problems;
}

/** Throws one clear error when the engine cannot be used; tests call this so they fail loudly instead of skipping. */
export async function requireDocker(options) {
  const toolchain = await detectDocker();
  const problems = toolchainProblems(toolchain, options);
  if (problems.length) {
    const error = new CliError(problems.join('; '), 1);
    error.code = 'EDOCKER';
    throw error;
  }
  return toolchain;
}

/**
 * Runs the detected client with `args`. By default returns trimmed stdout and turns a failure into one CliError line
 * (`docker <command> failed (exit N): <its last line>`); with `{ reject: false }` returns zx's ProcessOutput
 * (exitCode, stdout, stderr, ok) whatever the exit code.
 */
export async function docker(args, { reject = true, input, cwd } = {}) {
  const toolchain = await requireDocker({ needBuildx: false });
  const output = await $({ env: dockerEnv(toolchain), input, cwd, nothrow: true })`${toolchain.client} ${args}`;
  if (!reject) return output;
  if (!output.ok) throw new CliError(describeFailure(output, `docker ${args[0]}`), 1);
  return output.stdout.trim();
}

/** The current buildx builder's driver (docker, docker-container, ...), or null when buildx does not say. */
export async function builderDriver(toolchain) {
  const { stdout } = await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} buildx inspect`;
  return /^Driver:\s*(\S+)/m.exec(stdout)?.[1] ?? null;
}

/**
 * Whether a local build can only be loaded by the engine's own exporter: buildx's docker driver exports BuildKit's
 * image (a tarball: its own manifest and layers, layer times rewritten to SOURCE_DATE_EPOCH) only from an engine on
 * the containerd image store ("Docker exporter is not supported for the docker driver" on the classic store). The
 * engine's exporter keeps the build-time file times, and a classic store's `docker push` compresses the layers anew:
 * such an image runs and tests the same but is not reproducible. tools/image-store.mjs switches an engine over.
 */
export async function exportsThroughEngine(toolchain) {
  return toolchain.imageStore === 'classic' && (await builderDriver(toolchain)) === 'docker';
}
