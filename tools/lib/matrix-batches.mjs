// Fits the image matrix under GitHub's cap on jobs per matrix. Up to `maxJobs` images, every image is one entry (one
// job); beyond it, the images are split into exactly `maxJobs` balanced batches (sizes differ by at most one) and each
// entry carries its batch: the job builds, gates and tags those images one after another, one build record per image.
import { fail } from './errors.mjs';

/** GitHub Actions creates at most 256 jobs from one matrix; a larger one fails the whole workflow run. */
export const GITHUB_MATRIX_LIMIT = 256;

/** `--max-jobs`: a whole number from 1 to the cap (a larger matrix would not be created by GitHub). */
export function parseMaxJobs(text) {
  if (text === undefined) return GITHUB_MATRIX_LIMIT;
  const value = Number(text);
  if (!/^\d+$/.test(String(text).trim()) || !Number.isInteger(value) || value < 1 || value > GITHUB_MATRIX_LIMIT)
    fail(`--max-jobs must be a whole number from 1 to ${GITHUB_MATRIX_LIMIT} (GitHub's matrix limit), got '${text}'`);
  return value;
}

/** Sizes of `count` items split into `jobs` batches as evenly as possible, larger batches first. */
export function batchSizes(count, jobs) {
  const size = Math.floor(count / jobs);
  const larger = count % jobs;
  return Array.from({ length: Math.min(jobs, count) }, (_, i) => size + (i < larger ? 1 : 0));
}

/**
 * The matrix entries for `entries` (one per image, {project, image, dockerfile, context}, sorted) under `maxJobs`.
 * Within the limit the entries are returned unchanged. Beyond it each entry is a batch: `project` names the batch
 * (`batch-007-of-256`, for job names and artifact names), `batch` is `7/256`, and `projects` / `images` list its images
 * space-separated (project names and image refs never contain spaces), in the same order. Workflows read
 * `matrix.projects || matrix.project`, so both shapes go through the same steps.
 */
export function batchMatrixEntries(entries, maxJobs = GITHUB_MATRIX_LIMIT) {
  if (entries.length <= maxJobs) return entries;
  const sizes = batchSizes(entries.length, maxJobs);
  const width = String(sizes.length).length;
  const batches = [];
  let at = 0;
  for (const [index, size] of sizes.entries()) {
    const members = entries.slice(at, at + size);
    at += size;
    const number = String(index + 1).padStart(width, '0');
    batches.push({
      project: `batch-${number}-of-${sizes.length}`,
      batch: `${index + 1}/${sizes.length}`,
      projects: members.map((entry) => entry.project).join(' '),
      images: members.map((entry) => entry.image).join(' '),
      dockerfile: members[0].dockerfile,
      context: members[0].context,
    });
  }
  return batches;
}

/** The images of a matrix entry, batched or not, as [{project, image}] in build order. */
export function entryImages(entry) {
  if (entry.projects === undefined) return [{ project: entry.project, image: entry.image }];
  const projects = entry.projects.split(' ').filter(Boolean);
  const images = entry.images.split(' ').filter(Boolean);
  return projects.map((project, i) => ({ project, image: images[i] }));
}
