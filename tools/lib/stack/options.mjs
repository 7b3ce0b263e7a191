// Command line of tools/stack.mjs: one command, a few flags; anything else is one clear line and exit 2.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fail, parseCliArgs } from '../cli.mjs';
import { COMPOSE_PROJECT as DEFAULT_PROJECT } from '../defaults.cjs';
import { workspaceRoot } from '../workspace.mjs';

export const DEFAULT_TIMEOUT_S = 180;
export const COMMANDS = ['up', 'down', 'status'];

export const USAGE = `Usage: node tools/stack.mjs <up|down|status> [options]
  up       preflight, build missing/changed images through Nx, start detached, wait until every container is healthy
  down     stop and remove the stack's containers, networks and volumes
  status   state, health and URL of each service (exit 1 unless all are healthy)
Options:
  -f, --file FILE       compose file (default: compose.yaml at the repository root; e.g. apps/orders/compose.yaml)
  -p, --project NAME    compose project name (default: ${DEFAULT_PROJECT})
      --no-build        use the images as they are (fail if one is missing) instead of building through Nx
      --timeout SECONDS how long 'up' waits for every container to turn healthy (default: ${DEFAULT_TIMEOUT_S})
  -h, --help            this text`;

const OPTIONS = {
  file: { type: 'string', short: 'f' },
  project: { type: 'string', short: 'p' },
  'no-build': { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * @param {string[]} argv
 * @param {{ cwd?: string }} [options]
 * @returns {{ command: string|null, help: boolean, file: string, project: string, build: boolean, timeoutMs: number }}
 */
export function parseStackArgs(argv, { cwd = process.cwd() } = {}) {
  const { values, positionals } = parseCliArgs({ args: argv, options: OPTIONS, allowPositionals: true }, { hint: ' (see --help)' });
  if (values.help) return { command: null, help: true };
  if (positionals.length === 0) fail(`say what to do: ${COMMANDS.join(', ')} (see --help)`);
  if (positionals.length > 1) fail(`expected one command, got '${positionals.join(' ')}' (see --help)`);
  const [command] = positionals;
  if (!COMMANDS.includes(command)) fail(`unknown command '${command}': choose from ${COMMANDS.join(', ')}`);

  const file = path.resolve(cwd, values.file ?? path.join(workspaceRoot, 'compose.yaml'));
  if (!existsSync(file) || !statSync(file).isFile()) fail(`compose file not found: ${values.file ?? file}`);

  const project = values.project ?? DEFAULT_PROJECT;
  // What both Compose v1 and v2 accept unchanged as a project name (v1 would silently rewrite others).
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) fail(`invalid --project '${project}': use lowercase letters, digits, '-' and '_'`);

  let timeoutMs = DEFAULT_TIMEOUT_S * 1000;
  if (values.timeout !== undefined) {
    if (!/^\d+$/.test(values.timeout) || Number(values.timeout) < 1) fail(`invalid --timeout '${values.timeout}': a whole number of seconds, at least 1`);
    timeoutMs = Number(values.timeout) * 1000;
  }
  if (command !== 'up' && (values['no-build'] || values.timeout !== undefined)) fail(`--no-build and --timeout only apply to 'up'`);
  return { command, help: false, file, project, build: !values['no-build'], timeoutMs };
}
