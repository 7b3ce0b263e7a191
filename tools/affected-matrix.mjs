#!/usr/bin/env node
// GitHub Actions build matrix of the Nx image projects a change has to rebuild (exact selection: image-selection.mjs).
// Prints {"include":[{project,image,dockerfile,context}],"any","baseAffected","projects","base"}; with GITHUB_OUTPUT
// set, writes outputs matrix ({"include":[...]} only), any, base-affected, projects, base-image. More images than --max-jobs
// (default GitHub's cap, 256): the entries are balanced batches (lib/matrix-batches.mjs). See tools/README.md.
import { BASE_PROJECT, imagePrefix as defaultImagePrefix } from './lib/defaults.cjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { writeGitHubOutputs } from './lib/metadata/github-output.mjs';
import { selectImages } from './lib/image-selection.mjs';
import { parseMaxJobs } from './lib/matrix-batches.mjs';
import { affectedRange, buildMatrix } from './lib/nx-affected.mjs';
import { changedPipelineFiles } from './lib/pipeline-changes.mjs';

export { affectedProjects, affectedRange, buildMatrix, nxShowProjectsArgs } from './lib/nx-affected.mjs';

const USAGE = `Usage: node tools/affected-matrix.mjs [--base REF] [--head REF] [--image-prefix PREFIX] [--max-jobs N] [--exercise-pipeline]
  --base, --head   nx affected range (default NX_BASE / NX_HEAD, else nx defaults: nx.json defaultBase..working tree)
  --image-prefix   image name prefix (default $IMAGE_PREFIX, else secure-ci): image = <prefix>/<project>
  --max-jobs       at most N matrix entries (1-256, default 256: GitHub's matrix cap); more images than that are
                   split into N balanced batches, each entry then carries batch, projects and images
  --exercise-pipeline  when the range changes the workflows, .github/scripts or the pipeline tools and no image is
                   affected, base-affected is true, so the base image job runs once (output pipeline-changed)
Selects the images whose docker-build inputs changed (tools/lib/image-selection.mjs; README "What nx affected builds").
Prints {"include":[{project,image,dockerfile,context}],"any","baseAffected","projects","base"}.
With GITHUB_OUTPUT set also writes outputs: matrix ({"include":[...]}), any, base-affected, projects, base-image.`;

const FLAGS = {
  base: { type: 'string' },
  head: { type: 'string' },
  'image-prefix': { type: 'string' },
  'max-jobs': { type: 'string' },
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
  const maxJobs = parseMaxJobs(flags['max-jobs']);
  buildMatrix([], { imagePrefix }); // validates the prefix before running nx
  const range = affectedRange({ base: flags.base, head: flags.head }, env);
  const { projects } = await selectImages({ cwd, env, ...range });
  let matrix = buildMatrix(projects, { imagePrefix, maxJobs });
  // Separate from Nx's answer: a pipeline change runs at least the base image job (build, test, push, gate, tag).
  const pipelineFiles = flags['exercise-pipeline'] ? await changedPipelineFiles({ cwd, ...range }) : [];
  if (pipelineFiles.length && !matrix.include.length && !matrix.baseAffected) {
    const base = buildMatrix([BASE_PROJECT], { imagePrefix }).base;
    matrix = { ...matrix, baseAffected: true, base, pipelineChanged: pipelineFiles };
  } else if (pipelineFiles.length) matrix = { ...matrix, pipelineChanged: pipelineFiles };
  writeGitHubOutputs(
    {
      matrix: JSON.stringify({ include: matrix.include }),
      any: String(matrix.any),
      'base-affected': String(matrix.baseAffected),
      projects: JSON.stringify(matrix.projects),
      // Where the base image of this run goes, affected or not (pr.yml's base job builds it for every service job).
      'base-image': buildMatrix([BASE_PROJECT], { imagePrefix }).base.image,
      ...(flags['exercise-pipeline'] ? { 'pipeline-changed': String(pipelineFiles.length > 0) } : {}),
    },
    env,
  );
  process.stdout.write(`${JSON.stringify(matrix)}\n`);
  return 0;
}

if (isMain(import.meta.url)) runMain(() => main(), 'affected-matrix');
