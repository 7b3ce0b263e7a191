'use strict';
// The names and defaults the tools, the Nx plugin and the compose/Kubernetes conventions share, each stated once.
// CommonJS so that the plugin (CommonJS, loaded by Nx) and the ES-module tools read the same file.

/** Where locally built images live: `<prefix>/<project>` (IMAGE_PREFIX overrides it for a build or a matrix). */
const IMAGE_PREFIX = 'secure-ci';
/** The stable tag of a local build: what compose files and the image tests use. */
const LOCAL_TAG = 'local';
/** The Nx project of the shared hardened base image, and of the one service Dockerfile. */
const BASE_PROJECT = 'base-image';
const SERVICE_IMAGE_PROJECT = 'service-image';
const BASE_DOCKERFILE = 'docker/base/Dockerfile';
const SERVICE_DOCKERFILE = 'docker/service/Dockerfile';
/** The compose project `npm start` runs (compose.yaml at the repository root). */
const COMPOSE_PROJECT = 'secure-ci';
/** The system's name in Kubernetes: the app.kubernetes.io/part-of label and the namespaces (<name>, <name>-dev). */
const K8S_PART_OF = 'secure-ci';

/** The image prefix in effect: IMAGE_PREFIX from the environment when set, else the default. */
const imagePrefix = (env = process.env) => env.IMAGE_PREFIX || IMAGE_PREFIX;
/** The repository a project's image is built into, e.g. secure-ci/catalog. */
const imageRepository = (project, env = process.env) => `${imagePrefix(env)}/${project}`.toLowerCase();
/** The image compose runs for a project: `secure-ci/<project>:local`. */
const localImage = (project) => `${IMAGE_PREFIX}/${project}:${LOCAL_TAG}`;

module.exports = {
  IMAGE_PREFIX,
  LOCAL_TAG,
  BASE_PROJECT,
  SERVICE_IMAGE_PROJECT,
  BASE_DOCKERFILE,
  SERVICE_DOCKERFILE,
  COMPOSE_PROJECT,
  K8S_PART_OF,
  imagePrefix,
  imageRepository,
  localImage,
};
