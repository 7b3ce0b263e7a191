// Whether a change touches the delivery pipeline itself: the workflows, the scripts they call, or the tools that
// build, push, scan and tag images. Such a change selects no image through Nx (they are not image inputs), yet a
// bump of a pinned action or a change to the gate must run once before it reaches main: the PR plan then adds the
// base image to the image job's matrix (affected-matrix.mjs --exercise-pipeline).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MetadataError } from './metadata/errors.mjs';

export const PIPELINE_PATHS = [
  /^\.github\/workflows\//,
  /^\.github\/scripts\//,
  /^\.github\/actions\//,
  /^tools\/(affected-matrix|build-platforms|docker-build|docker-metadata|pipeline|push|scan|tag|bases)\.mjs$/,
  /^tools\/lib\/(build-record|registry|node-releases|nx-affected|docker-engine|image-metadata|secrets|cli|exec)\.mjs$/,
  /^tools\/lib\/metadata\//,
  /^\.trivyignore$/,
];

export const isPipelinePath = (file) => PIPELINE_PATHS.some((pattern) => pattern.test(file));

/** Files changed between `base` and `head` (the same range nx affected uses) that belong to the pipeline. */
export async function changedPipelineFiles({ cwd, base, head }) {
  if (!base) return [];
  const range = head ? [`${base}...${head}`] : [base];
  try {
    const { stdout } = await promisify(execFile)('git', ['diff', '--name-only', ...range, '--'], { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout.split('\n').filter(Boolean).filter(isPipelinePath);
  } catch (error) {
    throw new MetadataError(`git diff ${range.join(' ')} failed: ${String(error.stderr || error.message).trim().split('\n')[0]}`, 1);
  }
}
