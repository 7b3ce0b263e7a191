'use strict';
// @secure-ci/nx-plugin: infers every target of apps/*, libs/* and docker/* from this repository's conventions, so a
// project.json holds only what is specific to the project (name, tags, and for a service its port).
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { createNodesFromFiles } = require('@nx/devkit');
const { IMAGE_TAG } = require('./conventions');
const { imageTargets, libraryTargets, serviceTargets, IMAGE_PROJECTS } = require('./infer-targets');
const { serviceFactsOf } = require('./service-facts');

const PROJECT_FILES = '{apps,libs,docker}/*/project.json';

/** The inferred part of one project, from its project.json (relative to the workspace root). */
function inferProject(projectFile, context) {
  const root = path.posix.dirname(projectFile);
  const abs = (rel) => path.join(context.workspaceRoot, root, rel);
  const has = (rel) => existsSync(abs(rel));
  const project = JSON.parse(readFileSync(path.join(context.workspaceRoot, projectFile), 'utf8'));
  const [kind] = root.split('/');
  if (kind === 'apps') {
    const facts = serviceFactsOf(project, projectFile);
    if (!facts) return {};
    return {
      projects: {
        [root]: {
          sourceRoot: `${root}/src`,
          projectType: 'application',
          // Every service image is built FROM the base with the shared Dockerfile: both are in its graph.
          implicitDependencies: [...IMAGE_PROJECTS],
          targets: serviceTargets(root, facts),
        },
      },
    };
  }
  if (kind === 'libs') {
    return { projects: { [root]: { sourceRoot: `${root}/src`, projectType: 'library', targets: libraryTargets(root, has) } } };
  }
  const buildable = (project.tags ?? []).includes(IMAGE_TAG);
  return {
    projects: {
      [root]: {
        projectType: buildable ? 'application' : 'library',
        // The image projects' tests import tools/lib: cut from the graph, so a tools change rebuilds no image
        // (the tools' own tests prove it); what the image build loads is in targetDefaults.docker-build.inputs.
        implicitDependencies: ['!tools'],
        // No TypeScript is built here: the workspace's tsconfig (sharedGlobals) is no input of these projects, so a
        // tsconfig change never rebuilds the base image.
        namedInputs: { default: ['{projectRoot}/**/*'] },
        targets: imageTargets(root, project.name, { buildable, has }),
      },
    },
  };
}

const createNodesFunction = (projectFiles, options, context) =>
  createNodesFromFiles((file, _options, ctx) => inferProject(file, ctx), projectFiles, options, context);

/** Nx 23 reads `createNodes`; `createNodesV2` is the same pair under the name older Nx versions look for. */
const createNodes = [PROJECT_FILES, createNodesFunction];
const createNodesV2 = createNodes;

module.exports = { createNodes, createNodesV2, inferProject, PROJECT_FILES };
