// The repository's facts the manifests must agree with, read from where each is defined (never restated here):
//   services and ports  apps/<service>/project.json  metadata.port (tools/lib/services.mjs, the Nx plugin's reader)
//   who calls whom       apps/<service>/project.json  metadata.calls (reached via <CALLEE>_URL and <CALLEE>_API_KEY_FILE)
//   shutdown grace       libs/service-kit/src/lib/config.ts  SHUTDOWN_GRACE_MS default
//   development keys     apps/<service>/dev-secrets/api-key
//   the images' user     docker/service/Dockerfile  the last USER uid:gid (the final stage every service image is)
//   runtime limits       docker/compose/hardening.yaml  mem_limit, cpus (Kubernetes limits match compose)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { listServices } from '../../../tools/lib/services.mjs';

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
  return Object.fromEntries(list.map((s) => [s.name, { name: s.name, port: s.port, devSecret: `${s.root}/dev-secrets/api-key` }]));
}

/**
 * Calls between services, as each caller's project.json declares them (metadata.calls); the caller reaches a callee
 * at http://<callee>:<its port> through <CALLEE>_URL with its key in <CALLEE>_API_KEY_FILE (the kit's convention,
 * which the generator and the compose files follow).
 */
function readCalls(root, services) {
  const calls = [];
  for (const { name: caller, calls: callees = [] } of listServices(root)) {
    for (const callee of callees) {
      if (!services[callee]) throw new FactsError(`apps/${caller}/project.json: metadata.calls names ${callee}, which is not a service under apps/`);
      const prefix = callee.toUpperCase().replace(/-/g, '_');
      calls.push({ caller, callee, urlVariable: `${prefix}_URL`, url: `http://${callee}:${services[callee].port}`, keyFileVariable: `${prefix}_API_KEY_FILE` });
    }
  }
  return calls;
}

function readShutdownGraceMs(root) {
  const file = 'libs/service-kit/src/lib/config.ts';
  const match = /SHUTDOWN_GRACE_MS:[^\n]*\.default\(([\d_]+)\)/.exec(read(root, file));
  if (!match) throw new FactsError(`${file}: no SHUTDOWN_GRACE_MS default found`);
  return Number(match[1].replaceAll('_', ''));
}

/** The committed development keys (public, for the dev overlay only), by service. */
function readDevKeys(root, services) {
  return Object.fromEntries(
    Object.values(services)
      .filter((s) => existsSync(path.join(root, s.devSecret)))
      .map((s) => [s.name, read(root, s.devSecret)]),
  );
}

function readImageUser(root) {
  const file = 'docker/service/Dockerfile';
  const users = [...read(root, file).matchAll(/^USER\s+(\d+):(\d+)\s*$/gm)];
  if (!users.length) throw new FactsError(`${file}: no numeric USER uid:gid`);
  const [, uid, gid] = users.at(-1);
  return { uid: Number(uid), gid: Number(gid) };
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

export function readFacts(root) {
  const services = readServices(root);
  return {
    services,
    calls: readCalls(root, services),
    shutdownGraceMs: readShutdownGraceMs(root),
    devKeys: readDevKeys(root, services),
    imageUser: readImageUser(root),
    limits: readComposeLimits(root),
  };
}
