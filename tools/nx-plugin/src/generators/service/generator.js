'use strict';
// `nx g @secure-ci/nx-plugin:service <name> --framework fastify|express [--port N] [--calls <service>]`: scaffolds
// apps/<name> (source, specs, README, dev key, project.json with its facts in metadata) and then runs the sync
// generator's function on the same Tree, which derives everything else (compose, Kubernetes, overlays) from the
// catalogue. It edits no existing file itself. Every input is checked before anything is written; a bad one is one
// line and the tree stays untouched.
const path = require('node:path');
const { formatFiles, generateFiles, getProjects } = require('@nx/devkit');
const { FRAMEWORKS } = require('../../conventions');
const { envName } = require('../../catalogue');
const { checkSyncInputs, syncDerivedFiles, SyncInputError } = require('../sync/generator');

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 40;
// Ports are handed out above this one: the highest in use + 1 (the first service gets PORTS_ABOVE + 1).
const PORTS_ABOVE = 3000;

class GeneratorInputError extends Error {}
const fail = (message) => {
  throw new GeneratorInputError(`service generator: ${message}`);
};

/** Runs a step of the sync (awaited); a problem with its inputs becomes this generator's one line. */
async function syncStep(step) {
  try {
    return await step();
  } catch (error) {
    if (error instanceof SyncInputError) fail(error.message);
    throw error;
  }
}

/** Checks and completes the options; throws one line for the first problem. */
async function normalize(tree, options) {
  const name = options.name;
  if (typeof name !== 'string' || !NAME.test(name) || name.length > MAX_NAME) {
    fail(`invalid name "${name ?? ''}": lower-case letters and digits, words joined by single dashes, starting with a letter, at most ${MAX_NAME} characters`);
  }
  if (tree.exists(`apps/${name}`) || getProjects(tree).has(name)) fail(`a project named "${name}" (or apps/${name}) already exists`);
  if (!Object.hasOwn(FRAMEWORKS, options.framework ?? '')) fail(`unknown framework "${options.framework ?? ''}": use ${Object.keys(FRAMEWORKS).join(' or ')}`);
  // what the sync will read, checked now so that a broken input writes nothing
  const services = await syncStep(() => checkSyncInputs(tree));
  const port = options.port === undefined ? Math.max(PORTS_ABOVE, ...services.map((s) => s.port)) + 1 : Number(options.port);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) fail(`invalid port "${options.port}": an integer 1024-65535`);
  const taken = services.find((s) => s.port === port);
  if (taken) fail(`port ${port} is already used by service "${taken.name}"`);
  let callee = null;
  if (options.calls !== undefined) {
    callee = services.find((s) => s.name === options.calls);
    if (!callee) fail(`--calls "${options.calls}" is not a service (known: ${services.map((s) => s.name).join(', ') || 'none'})`);
  }
  return { name, framework: options.framework, port, callee, VAR: envName(name) };
}

async function serviceGenerator(tree, options) {
  const o = await normalize(tree, options);
  const vars = {
    ...o,
    title: o.name
      .split('-')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join(' '),
    tmpl: '',
  };
  const target = path.posix.join('apps', o.name);
  generateFiles(tree, path.join(__dirname, 'files', 'common'), target, vars);
  generateFiles(tree, path.join(__dirname, 'files', o.framework), target, vars);
  if (o.callee) generateFiles(tree, path.join(__dirname, 'files', 'calls'), target, vars);
  // everything derived from the catalogue, the new service included (one message for a sync problem, nothing written)
  await syncStep(() => syncDerivedFiles(tree));
  // what it wrote in the repository's prettier style, so the format check of the test command passes right away
  await formatFiles(tree);
  return () => {
    process.stdout.write(
      `service ${o.name} (${o.framework}, port ${o.port}${o.callee ? `, calls ${o.callee.name}` : ''}): npx nx run ${o.name}:docker-build, then npm start\n`,
    );
  };
}

module.exports = serviceGenerator;
module.exports.default = serviceGenerator;
module.exports.GeneratorInputError = GeneratorInputError;
