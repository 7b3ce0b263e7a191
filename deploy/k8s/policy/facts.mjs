// The repository's facts the manifests must agree with, read from where each is defined (never restated here), and
// read with the tools that define them rather than by pattern-matching their text:
//   services and ports  apps/<service>/project.json  metadata.port (tools/lib/services.mjs, the Nx plugin's reader)
//   who calls whom       apps/<service>/project.json  metadata.calls (reached via <CALLEE>_URL and <CALLEE>_API_KEY_FILE)
//   shutdown grace       each service's own config schema (service-config.mjs: its SHUTDOWN_GRACE_MS default)
//   the images' user     docker/service/Dockerfile  the USER of its final stage (dockerfile-ast, the parser the tools use)
//   runtime limits       docker/compose/hardening.yaml  mem_limit, cpus (Kubernetes limits match compose)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import YAML from 'yaml';
import { listServices } from '../../../tools/lib/services.mjs';
import { serviceConfigDefaults } from './service-config.mjs';

export class FactsError extends Error {}

const read = (root, file) => {
  const abs = path.join(root, file);
  if (!existsSync(abs)) throw new FactsError(`${file} not found`);
  return readFileSync(abs, 'utf8');
};

/** Services and their ports, through the one reader of apps/<name>/project.json the Nx plugin and the tools use. */
function readServices(root) {
  let list;
  try {
    list = listServices(root);
  } catch (error) {
    throw new FactsError(error.message);
  }
  if (!list.length) throw new FactsError('no service under apps/*/project.json');
  return Object.fromEntries(list.map((s) => [s.name, { name: s.name, port: s.port, root: s.root }]));
}

/**
 * Calls between services, as each caller's project.json declares them (metadata.calls); the caller presents its
 * key for a callee from <CALLEE>_API_KEY_FILE (the kit's convention; the sync writes it, and <CALLEE>_URL, from the
 * same facts).
 */
function readCalls(root, services) {
  const calls = [];
  for (const { name: caller, calls: callees = [] } of listServices(root)) {
    for (const callee of callees) {
      if (!services[callee]) throw new FactsError(`apps/${caller}/project.json: metadata.calls names ${callee}, which is not a service under apps/`);
      const prefix = callee.toUpperCase().replace(/-/g, '_');
      calls.push({ caller, callee, keyFileVariable: `${prefix}_API_KEY_FILE` });
    }
  }
  return calls;
}

/** The numeric `USER uid:gid` of the service Dockerfile's final stage: every service image is that stage. */
export function readImageUser(root, file = 'docker/service/Dockerfile') {
  const instructions = DockerfileParser.parse(read(root, file)).getInstructions();
  const lastFrom = instructions.findLastIndex((i) => i.getKeyword() === 'FROM');
  const user = instructions.slice(lastFrom + 1).findLast((i) => i.getKeyword() === 'USER');
  const match = /^(\d+):(\d+)$/.exec(
    user
      ?.getArguments()
      .map((a) => a.getValue())
      .join(' ') ?? '',
  );
  if (!match) throw new FactsError(`${file}: its final stage has no numeric USER uid:gid`);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}

/** compose's mem_limit (256m: MiB, as Docker counts) in bytes and cpus as a number of CPUs. */
function readComposeLimits(root) {
  const file = 'docker/compose/hardening.yaml';
  const hardened = YAML.parse(read(root, file))?.services?.hardened ?? {};
  const memory = /^(\d+)([kmg])$/i.exec(String(hardened.mem_limit ?? ''));
  const cpus = Number(hardened.cpus);
  if (!memory || !(cpus > 0)) throw new FactsError(`${file}: services.hardened needs mem_limit (e.g. 256m) and cpus`);
  return { memoryBytes: Number(memory[1]) * 1024 ** { k: 1, m: 2, g: 3 }[memory[2].toLowerCase()], cpus };
}

export async function readFacts(root) {
  const services = readServices(root);
  let defaults;
  try {
    defaults = await serviceConfigDefaults(root, Object.values(services));
  } catch (error) {
    throw new FactsError(error.message);
  }
  for (const service of Object.values(services)) service.shutdownGraceMs = defaults[service.name].SHUTDOWN_GRACE_MS;
  return {
    services,
    calls: readCalls(root, services),
    imageUser: readImageUser(root),
    limits: readComposeLimits(root),
  };
}
