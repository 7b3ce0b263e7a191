#!/usr/bin/env node
// GitHub Actions build matrix of the Nx image projects a change has to rebuild (exact selection: image-selection.mjs).
// Prints {"include":[{project,image,dockerfile,context}],"any","baseAffected","projects","base"}; with GITHUB_OUTPUT
// set, writes outputs matrix ({"include":[...]} only), any, base-affected, projects. See tools/README.md.
import { BASE_PROJECT, imagePrefix as defaultImagePrefix } from './lib/defaults.cjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { writeGitHubOutputs } from './lib/metadata/github-output.mjs';
import { selectImages } from './lib/image-selection.mjs';
import { affectedRange, buildMatrix } from './lib/nx-affected.mjs';
import { changedPipelineFiles } from './lib/pipeline-changes.mjs';

export { affectedProjects, affectedRange, buildMatrix, nxShowProjectsArgs } from './lib/nx-affected.mjs';

const USAGE = `Usage: node tools/affected-matrix.mjs [--base REF] [--head REF] [--image-prefix PREFIX] [--exercise-pipeline]
  --base, --head   nx affected range (default NX_BASE / NX_HEAD, else nx defaults: nx.json defaultBase..working tree)
  --image-prefix   image name prefix (default $IMAGE_PREFIX, else secure-ci): image = <prefix>/<project>
  --exercise-pipeline  when the range changes the workflows, .github/scripts or the pipeline tools and no image is
                   affected, the matrix gets the base image, so the change runs once (output pipeline-changed)
Selects the images whose docker-build inputs changed (tools/lib/image-selection.mjs; README "What nx affected builds").
Prints {"include":[{project,image,dockerfile,context}],"any","baseAffected","projects","base"}.
With GITHUB_OUTPUT set also writes outputs: matrix ({"include":[...]}), any, base-affected, projects.`;

const FLAGS = {
  base: { type: 'string' },
  head: { type: 'string' },
  'image-prefix': { type: 'string' },
  'exercise-pipeline': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The CLI: prints the matrix (and writes step outputs); bad input or a failed git/nx step throws one CliError line. */
export async function main(argv = process.argv.slice(2), env = process.env, cwd = process.cwd()) {
  const { values: flags } = parseCliArgs({ args: argv, options: FLAGS }, { hint: ' (see --help)' });
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (const name of ['base', 'head', 'image-prefix']) {
    if (flags[name] !== undefined && flags[name].trim() === '') fail(`--${name} must not be empty`);
  }
  const imagePrefix = flags['image-prefix'] ?? defaultImagePrefix(env);
  buildMatrix([], { imagePrefix }); // validates the prefix before running nx
  const range = affectedRange({ base: flags.base, head: flags.head }, env);
  const { projects } = await selectImages({ cwd, env, ...range });
  let matrix = buildMatrix(projects, { imagePrefix });
  // Separate from Nx's answer: a pipeline change exercises the image job for at least the base image.
  const pipelineFiles = flags['exercise-pipeline'] ? await changedPipelineFiles({ cwd, ...range }) : [];
  if (pipelineFiles.length && !matrix.include.length) {
    const base = buildMatrix([BASE_PROJECT], { imagePrefix }).base;
    matrix = { ...matrix, include: [base], any: true, pipelineChanged: pipelineFiles };
  } else if (pipelineFiles.length) matrix = { ...matrix, pipelineChanged: pipelineFiles };
  writeGitHubOutputs(
    {
      matrix: JSON.stringify({ include: matrix.include }),
      any: String(matrix.any),
      'base-affected': String(matrix.baseAffected),
      projects: JSON.stringify(matrix.projects),
      ...(flags['exercise-pipeline'] ? { 'pipeline-changed': String(pipelineFiles.length > 0) } : {}),
    },
    env,
  );
  process.stdout.write(`${JSON.stringify(matrix)}\n`);
  return 0;
}

if (isMain(import.meta.url)) runMain(() => main(), 'affected-matrix');
