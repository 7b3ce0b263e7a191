// Whether a change touches the delivery pipeline itself: the workflows, the scripts they call, or the tools that
// build, push, scan and tag images. Such a change selects no image through Nx (they are not image inputs), yet a
// bump of a pinned action or a change to the gate must run once before it reaches main: the PR plan then adds the
// base image to the image job's matrix (affected-matrix.mjs --exercise-pipeline).
import { $, stdoutOf } from './process.mjs';

export const PIPELINE_PATHS = [
  /^\.github\/workflows\//,
  /^\.github\/scripts\//,
  /^\.github\/actions\//,
  /^tools\/(affected-matrix|build-platforms|docker-build|docker-metadata|pipeline|push|scan|tag|bases)\.mjs$/,
  /^tools\/lib\/(build-record|registry|node-releases|nx-affected|docker-engine|image-metadata|base-images|secrets|cli|errors|process)\.mjs$/,
  /^tools\/lib\/defaults\.cjs$/,
  /^tools\/lib\/metadata\//,
  /^\.trivyignore$/,
];

export const isPipelinePath = (file) => PIPELINE_PATHS.some((pattern) => pattern.test(file));

/** Files changed between `base` and `head` (the same range nx affected uses) that belong to the pipeline. */
export async function changedPipelineFiles({ cwd, base, head }) {
  if (!base) return [];
  const range = head ? [`${base}...${head}`] : [base];
  const changed = await stdoutOf($({ cwd, nothrow: true })`git diff --name-only ${range} --`, `git diff ${range.join(' ')}`);
  return changed.split('\n').filter(Boolean).filter(isPipelinePath);
}
