'use strict';
// The service catalogue as the sync generator and the service generator see it: every project of an Nx Tree tagged
// type:service, with the facts of its project.json (service-facts.js) and who calls it. Read from the Tree
// (getProjects), not from a cached project graph, so a service the generator has just written on the same Tree is
// in it. Bad facts (a bad port, an unknown callee, two services on one port) are one CatalogueError line.
const { getProjects } = require('@nx/devkit');
const { serviceFactsOf } = require('./service-facts');

class CatalogueError extends Error {}

/** The environment-variable stem of a service name (CATALOG for catalog, GEN_E2E for gen-e2e). */
const envName = (name) => name.toUpperCase().replace(/-/g, '_');

/**
 * @param {import('@nx/devkit').Tree} tree
 * @returns {{name, framework, port, calls: string[], callers: string[], root: string, VAR: string}[]} sorted by name
 */
function readCatalogue(tree) {
  const services = [];
  for (const [, project] of getProjects(tree)) {
    let facts;
    try {
      facts = serviceFactsOf(project, `${project.root}/project.json`);
    } catch (error) {
      throw new CatalogueError(error.message);
    }
    if (facts) services.push({ ...facts, root: project.root, VAR: envName(facts.name) });
  }
  services.sort((a, b) => a.name.localeCompare(b.name));
  const byName = new Map(services.map((s) => [s.name, s]));
  const byPort = new Map();
  for (const service of services) {
    const other = byPort.get(service.port);
    if (other) throw new CatalogueError(`${service.root}/project.json: metadata.port ${service.port} is already the port of ${other.name}`);
    byPort.set(service.port, service);
    for (const callee of service.calls) {
      if (!byName.has(callee)) {
        throw new CatalogueError(
          `${service.root}/project.json: metadata.calls names "${callee}", which is not a service (known: ${[...byName.keys()].join(', ')})`,
        );
      }
      if (callee === service.name) throw new CatalogueError(`${service.root}/project.json: a service cannot call itself`);
    }
  }
  for (const service of services) service.callers = services.filter((s) => s.calls.includes(service.name)).map((s) => s.name);
  return services;
}

module.exports = { readCatalogue, CatalogueError, envName };
