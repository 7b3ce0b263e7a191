// The workspace's services and their facts (framework, port, the services they call), read from where each is
// declared once: apps/<name>/project.json (tags type:service + framework:<x>, metadata.port, metadata.calls).
// The reader is the Nx plugin's, so the tools and the inferred targets can never disagree.
// (Plain imports of the CommonJS modules, so import walks such as tools/test/docker-build-inputs.test.mjs see them.)
import facts from '../nx-plugin/src/service-facts.js';
import conventions from '../nx-plugin/src/conventions.js';
import { workspaceRoot } from './workspace.mjs';

export const { ServiceFactsError } = facts;
export const { FRAMEWORKS } = conventions;

/** @returns {{name: string, framework: 'fastify'|'express', port: number, calls: string[], root: string}[]} sorted by name */
export function listServices(root = workspaceRoot) {
  return facts.listServices(root);
}

/** The facts of one service, or null when there is no such service. */
export function serviceFacts(name, root = workspaceRoot) {
  return listServices(root).find((s) => s.name === name) ?? null;
}

/** The host-port variable compose reads for a service (CATALOG_PORT for catalog). */
export const portVariable = (name) => `${name.toUpperCase().replace(/-/g, '_')}_PORT`;
