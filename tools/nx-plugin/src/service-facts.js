'use strict';
// What is specific to one service, read from where it is declared once: its apps/<name>/project.json
// (name, tags type:service + framework:<fastify|express>, metadata.port, metadata.calls). The plugin, the
// generator and the zx tools (bench, stack, image tests) all read it through this module.
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { FRAMEWORKS, FRAMEWORK_TAG_PREFIX, SERVICE_TAG } = require('./conventions');

class ServiceFactsError extends Error {}

/**
 * The facts of a service from its parsed project.json, or null when the project is not a service.
 * @param {object} project parsed project.json
 * @param {string} where for error messages (e.g. apps/orders/project.json)
 * @returns {{name: string, framework: 'fastify'|'express', port: number, calls: string[]}|null}
 */
function serviceFactsOf(project, where) {
  const tags = Array.isArray(project?.tags) ? project.tags : [];
  if (!tags.includes(SERVICE_TAG)) return null;
  const name = project.name;
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) throw new ServiceFactsError(`${where}: "name" must be a lower-case project name`);
  const frameworks = tags.filter((t) => t.startsWith(FRAMEWORK_TAG_PREFIX)).map((t) => t.slice(FRAMEWORK_TAG_PREFIX.length));
  if (frameworks.length !== 1 || !FRAMEWORKS[frameworks[0]]) {
    throw new ServiceFactsError(
      `${where}: a service needs exactly one tag ${Object.keys(FRAMEWORKS)
        .map((f) => FRAMEWORK_TAG_PREFIX + f)
        .join(' or ')}`,
    );
  }
  const port = project.metadata?.port;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ServiceFactsError(`${where}: "metadata.port" must be an integer 1-65535`);
  const calls = project.metadata?.calls ?? [];
  if (!Array.isArray(calls) || !calls.every((c) => typeof c === 'string'))
    throw new ServiceFactsError(`${where}: "metadata.calls" must be a list of service names`);
  return { name, framework: frameworks[0], port, calls };
}

/** Every service of the workspace (apps/<dir>/project.json tagged type:service), sorted by name. */
function listServices(workspaceRoot) {
  const apps = path.join(workspaceRoot, 'apps');
  if (!existsSync(apps)) return [];
  const services = [];
  for (const dir of readdirSync(apps, { withFileTypes: true })) {
    const file = path.join(apps, dir.name, 'project.json');
    if (!dir.isDirectory() || !existsSync(file)) continue;
    const where = `apps/${dir.name}/project.json`;
    let project;
    try {
      project = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new ServiceFactsError(`${where}: not valid JSON`);
    }
    const facts = serviceFactsOf(project, where);
    if (facts) services.push({ ...facts, root: `apps/${dir.name}` });
  }
  return services.sort((a, b) => a.name.localeCompare(b.name));
}

module.exports = { serviceFactsOf, listServices, ServiceFactsError };
