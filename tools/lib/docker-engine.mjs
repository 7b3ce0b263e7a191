// Finds a Docker client that can do BuildKit secrets, a Compose implementation, and whether an engine answers.
// Users have buildx and Compose v2; Debian-style machines have a 20.10 client with built-in BuildKit and Compose v1.
// A client of 23+ without the buildx plugin silently falls back to the legacy builder, which rejects `RUN --mount`,
// so such a client is never chosen for builds.
import { existsSync } from 'node:fs';
import { CliError } from './errors.mjs';
import { $, describeFailure } from './process.mjs';

/** Trimmed stdout of a probe, or null when it fails or takes longer than 20 s. */
async function probe(cmd, args) {
  const output = await $({ nothrow: true, timeout: '20s' })`${cmd} ${args}`;
  return output.ok ? output.stdout.trim() : null;
}

function candidateClients() {
  const list = [];
  if (process.env.DOCKER_CLI) list.push(process.env.DOCKER_CLI);
  list.push('docker', '/usr/bin/docker', '/usr/local/bin/docker');
  return [...new Set(list)].filter((c) => !c.startsWith('/') || existsSync(c));
}

/** How a client builds: 'buildx' (plugin present), 'buildkit' (pre-23 client, DOCKER_BUILDKIT=1) or null. */
async function buildModeOf(client) {
  if (await probe(client, ['buildx', 'version'])) return 'buildx';
  // `docker --version` answers without an engine (`docker version` fails when none is reachable)
  const version = /version (\d+)\./i.exec((await probe(client, ['--version'])) ?? '')?.[1];
  if (!version) return null;
  const major = Number.parseInt(version, 10);
  return Number.isFinite(major) && major < 23 ? 'buildkit' : null;
}

let cached;

/**
 * Detects the toolchain once per process.
 * @returns {Promise<{client: string|null, buildMode: 'buildx'|'buildkit'|null, serverVersion: string|null,
 *   compose: string[]|null, composeVersion: string|null}>}
 */
export async function detectDocker() {
  if (cached) return cached;
  let client = null;
  let buildMode = null;
  let firstClient = null;
  for (const candidate of candidateClients()) {
    if (!(await probe(candidate, ['--version']))) continue;
    firstClient ??= candidate;
    const mode = await buildModeOf(candidate);
    if (mode) {
      client = candidate;
      buildMode = mode;
      break;
    }
  }
  client ??= firstClient;
  const serverVersion = client ? await probe(client, ['version', '--format', '{{.Server.Version}}']) : null;
  let compose = null;
  let composeVersion = null;
  if (client) {
    composeVersion = await probe(client, ['compose', 'version', '--short']);
    if (composeVersion) compose = [client, 'compose'];
  }
  if (!compose) {
    composeVersion = await probe('docker-compose', ['version', '--short']);
    if (composeVersion) compose = ['docker-compose'];
  }
  cached = { client, buildMode, serverVersion, compose, composeVersion };
  return cached;
}

/** Environment for running `client`: built-in BuildKit must be asked for explicitly on pre-23 clients. */
export function dockerEnv(toolchain) {
  return toolchain.buildMode === 'buildkit' ? { ...process.env, DOCKER_BUILDKIT: '1' } : { ...process.env };
}

/** One-line, actionable reasons why this machine cannot build or run images (empty when it can). */
export function toolchainProblems(toolchain, { needCompose = false } = {}) {
  const problems = [];
  if (!toolchain.client) problems.push('no docker client found: install Docker Engine (https://docs.docker.com/engine/install/)');
  else if (!toolchain.serverVersion)
    problems.push(`no Docker Engine answers ${toolchain.client}: start dockerd (e.g. 'sudo systemctl start docker') or set DOCKER_HOST`);
  if (toolchain.client && !toolchain.buildMode)
    problems.push(
      'no BuildKit-capable docker client: install the buildx plugin (docker-buildx-plugin), or set DOCKER_CLI to a client < 23 that has built-in BuildKit',
    );
  if (needCompose && !toolchain.compose) problems.push("no Compose found: install the Compose v2 plugin ('docker compose') or docker-compose v1");
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
  const toolchain = await requireDocker();
  const output = await $({ env: dockerEnv(toolchain), input, cwd, nothrow: true })`${toolchain.client} ${args}`;
  if (!reject) return output;
  if (!output.ok) throw new CliError(describeFailure(output, `docker ${args[0]}`), 1);
  return output.stdout.trim();
}
