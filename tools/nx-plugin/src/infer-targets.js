'use strict';
// The targets each kind of project gets. Caching, dependsOn and inputs come from nx.json targetDefaults (shared by
// every project); what is inferred here is what today differed per project: paths, commands, options.
const { EXTERNAL_PACKAGES, IMAGE_PROJECTS, NODE_TARGET } = require('./conventions');

const PLUGIN = '@secure-ci/nx-plugin';
const described = (description, technologies) => ({ metadata: { description: `${description} (inferred by ${PLUGIN})`, technologies } });

function lintTarget(root) {
  return {
    executor: 'nx:run-commands',
    options: { command: `eslint ${root}` },
    ...described(`ESLint over ${root} with the workspace's flat config`, ['eslint']),
  };
}

function typecheckTarget(root) {
  return {
    executor: 'nx:run-commands',
    options: { command: `tsc -p ${root}/tsconfig.spec.json --noEmit` },
    ...described(`Type-checks sources and specs through ${root}/tsconfig.spec.json`, ['typescript']),
  };
}

function jestTarget(root) {
  return {
    executor: '@nx/jest:jest',
    outputs: ['{workspaceRoot}/coverage/{projectRoot}'],
    options: { jestConfig: `${root}/jest.config.cjs` },
    ...described(`Jest specs (*.spec.ts) with ${root}/jest.config.cjs`, ['jest']),
  };
}

function dockerBuildTarget(name, what) {
  return {
    executor: 'nx:run-commands',
    options: { command: `node tools/docker-build.mjs ${name}` },
    ...described(`${what} with tools/docker-build.mjs; writes dist/docker/${name}.json (not Nx-cached: the image lives in Docker's store)`, ['docker']),
  };
}

/** build, serve, lint, typecheck, test, docker-build of a service under apps/<name>. */
function serviceTargets(root, facts) {
  const out = `dist/${root}`;
  return {
    build: {
      executor: '@nx/esbuild:esbuild',
      outputs: ['{options.outputPath}'],
      options: {
        main: `${root}/src/main.ts`,
        outputPath: out,
        outputFileName: 'main.js',
        tsConfig: `${root}/tsconfig.app.json`,
        platform: 'node',
        target: NODE_TARGET,
        format: ['cjs'],
        bundle: true,
        thirdParty: true,
        generatePackageJson: true,
        sourcemap: false,
        esbuildOptions: { outExtension: { '.js': '.js' }, minifyWhitespace: true, minifySyntax: true, legalComments: 'inline' },
        external: [...EXTERNAL_PACKAGES],
      },
      ...described(`One minified CommonJS bundle ${out}/main.js (${NODE_TARGET}) with the kit inlined and a generated package.json`, ['esbuild']),
    },
    serve: {
      executor: 'nx:run-commands',
      dependsOn: ['build'],
      options: { command: `node ${out}/main.js` },
      ...described(`Runs the bundle on PORT ${facts.port} (the service's metadata.port is its default)`, ['node']),
    },
    lint: lintTarget(root),
    typecheck: typecheckTarget(root),
    test: jestTarget(root),
    'docker-build': dockerBuildTarget(facts.name, `The service image FROM the shared base (docker/service/Dockerfile, PORT=${facts.port})`),
  };
}

/** lint, typecheck (tsconfig.spec.json) and test (jest.config.cjs) of a library, each when its config is there. */
function libraryTargets(root, has) {
  const targets = { lint: lintTarget(root) };
  if (has('tsconfig.spec.json')) targets.typecheck = typecheckTarget(root);
  if (has('jest.config.cjs')) targets.test = jestTarget(root);
  return targets;
}

/** lint, the Dockerfile policy test, and docker-build for a buildable image (tag type:image) under docker/<dir>. */
function imageTargets(root, name, { buildable, has }) {
  const targets = { lint: lintTarget(root) };
  if (has('test/dockerfile-policy.test.mjs')) {
    targets.test = {
      executor: 'nx:run-commands',
      // inputs (default + tools/test/support/dockerfile-policy.mjs) are in docker/*/project.json: targetDefaults.test
      // would override inputs inferred here, and a project.json overrides targetDefaults.
      options: { command: `node --test ${root}/test/dockerfile-policy.test.mjs` },
      ...described(`The Dockerfile policy (CIS/OWASP/Trivy DS rules) on ${root}/Dockerfile; the image tests run in the images suite`, ['docker']),
    };
  }
  if (buildable) targets['docker-build'] = dockerBuildTarget(name, `The image of ${root}/Dockerfile`);
  return targets;
}

module.exports = { serviceTargets, libraryTargets, imageTargets, IMAGE_PROJECTS, PLUGIN };
