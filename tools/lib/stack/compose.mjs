// One compose project (a compose file + a project name) driven through Compose v2 (`docker compose`, from
// detectDocker), plus what the engine knows about its containers, found by the com.docker.compose.project label.
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { dockerEnv } from '../docker-engine.mjs';
import { $, lastLine, streamLines } from '../process.mjs';

const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';

/** Runs a command, copying its output through as it comes (unless quiet); resolves to { exitCode, output }. */
export async function runTee(cmd, args, { env, cwd, quiet = false } = {}) {
  const result = await streamLines($({ env, cwd, nothrow: true })`${cmd} ${args}`, { echo: !quiet });
  return { exitCode: result.exitCode ?? (result.signal ? 128 : 1), output: result.stdall };
}

/** "compose 2.26.1" */
export function describeCompose(toolchain) {
  return `compose ${String(toolchain.composeVersion ?? 'unknown version').replace(/^v/, '')}`;
}

export class ComposeStack {
  /**
   * @param {Awaited<ReturnType<import('../docker-engine.mjs').detectDocker>>} toolchain
   * @param {{ file: string, project: string, env?: NodeJS.ProcessEnv }} options
   */
  constructor(toolchain, { file, project, env }) {
    this.toolchain = toolchain;
    this.file = path.resolve(file);
    this.project = project;
    this.env = { ...dockerEnv(toolchain), ...env };
  }

  /** argv of a compose command for this project. */
  composeCommand(args) {
    const [cmd, ...prefix] = this.toolchain.compose;
    return [cmd, [...prefix, '--project-name', this.project, '--file', this.file, ...args]];
  }

  /** Runs compose; output is passed through unless quiet, and returned either way. */
  async compose(args, { quiet = false } = {}) {
    const [cmd, argv] = this.composeCommand(args);
    return runTee(cmd, argv, { env: this.env, cwd: path.dirname(this.file), quiet });
  }

  /** The resolved configuration (`compose config`), parsed. Throws one line when compose rejects the file. */
  async config() {
    const [cmd, argv] = this.composeCommand(['config']);
    const result = await $({ env: this.env, cwd: path.dirname(this.file), nothrow: true })`${cmd} ${argv}`;
    if (!result.ok) {
      const reason = lastLine(result) || `exit ${result.exitCode}`;
      throw new Error(`compose cannot read ${path.relative(process.cwd(), this.file) || this.file}: ${reason}`);
    }
    return parseYaml(result.stdout);
  }

  /** Runs the docker client; a failure throws zx's ProcessOutput unless `reject` is false. */
  async docker(args, { reject = true } = {}) {
    return $({ env: this.env, nothrow: !reject })`${this.toolchain.client} ${args}`;
  }

  /** Every container of the project (running or not), inspected. */
  async containers() {
    const ids = (await this.docker(['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${this.project}`])).stdout
      .split('\n')
      .filter(Boolean);
    if (ids.length === 0) return [];
    // A container can vanish between ps and inspect (compose recreating it): inspect what is still there.
    const result = await this.docker(['inspect', ...ids], { reject: false });
    const list = JSON.parse(result.stdout || '[]');
    return list.map(summarize);
  }

  /** Containers, networks and volumes still carrying the project label. */
  async leftovers() {
    const filter = ['--filter', `label=${PROJECT_LABEL}=${this.project}`];
    const lines = async (args) => (await this.docker(args)).stdout.split('\n').filter(Boolean);
    return {
      containers: await lines(['ps', '--all', '--format', '{{.Names}}', ...filter]),
      networks: await lines(['network', 'ls', '--format', '{{.Name}}', ...filter]),
      volumes: await lines(['volume', 'ls', '--format', '{{.Name}}', ...filter]),
    };
  }

  /** The last `lines` lines a container wrote (stdout and stderr). */
  async logs(id, lines = 30) {
    const result = await this.docker(['logs', '--tail', String(lines), id], { reject: false });
    return `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`.trim();
  }

  /** Whether an image reference exists locally. */
  async hasImage(ref) {
    return (await this.docker(['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false })).exitCode === 0;
  }
}

/** What the stack tool and the tests need from `docker inspect`. */
export function summarize(info) {
  const ports = [];
  for (const [key, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    for (const binding of bindings ?? []) {
      ports.push({ containerPort: Number.parseInt(key, 10), hostIp: binding.HostIp, hostPort: Number(binding.HostPort) });
    }
  }
  const health = info.State?.Health;
  return {
    id: info.Id,
    name: String(info.Name ?? '').replace(/^\//, ''),
    service: info.Config?.Labels?.[SERVICE_LABEL] ?? '',
    status: info.State?.Status ?? 'unknown', // created, running, restarting, exited, dead, paused
    health: health?.Status ?? null, // starting, healthy, unhealthy, or null without a healthcheck
    lastProbe: health?.Log?.length ? String(health.Log[health.Log.length - 1].Output ?? '').trim() : '',
    exitCode: info.State?.ExitCode ?? null,
    restartCount: info.RestartCount ?? 0,
    oomKilled: Boolean(info.State?.OOMKilled),
    ports,
    raw: info,
  };
}
