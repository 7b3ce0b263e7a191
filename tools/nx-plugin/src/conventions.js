'use strict';
// The conventions the plugin infers targets from, each stated once.
const { BASE_PROJECT, SERVICE_IMAGE_PROJECT } = require('../../lib/defaults.cjs');
const { esbuildTargetOf, readNodeVersion } = require('../../lib/node-version.cjs');

/**
 * esbuild's `target` for every service bundle: the major line of the workspace's one Node.js version
 * (`.node-version` at the repository root, which the images ship), parsed by tools/lib/node-version.cjs.
 */
const NODE_TARGET = esbuildTargetOf(readNodeVersion());

/** The frameworks a service can use: the tag value and the kit adapter project it imports. */
const FRAMEWORKS = {
  fastify: { adapter: 'service-kit-fastify', importPath: '@secure-ci/service-kit-fastify', create: 'createFastifyService' },
  express: { adapter: 'service-kit-express', importPath: '@secure-ci/service-kit-express', create: 'createExpressService' },
};

/**
 * npm packages a bundle leaves as `require()`: installed in the image by `npm ci --omit=dev` (docker/service),
 * never inlined, so their licences, versions and scanner visibility stay intact. Unused ones cost nothing.
 */
const EXTERNAL_PACKAGES = ['fastify', '@fastify/helmet', 'express', 'helmet', 'pino', 'pino-http', 'close-with-grace'];

/** Image projects every service image is built from (the shared base, the one service Dockerfile). */
const IMAGE_PROJECTS = [BASE_PROJECT, SERVICE_IMAGE_PROJECT];

const SERVICE_TAG = 'type:service';
const IMAGE_TAG = 'type:image';
const FRAMEWORK_TAG_PREFIX = 'framework:';

module.exports = { NODE_TARGET, FRAMEWORKS, EXTERNAL_PACKAGES, IMAGE_PROJECTS, SERVICE_TAG, IMAGE_TAG, FRAMEWORK_TAG_PREFIX };
