// The matrix under GitHub's 256-job cap (lib/matrix-batches.mjs through buildMatrix), with synthetic image lists:
// exactly 256 images (one job each), 257 (batches), 300, and a small --max-jobs; the result must be a matrix GitHub
// expands to at most 256 jobs, with every image in exactly one entry and batches that differ by at most one image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GITHUB_MATRIX_LIMIT, batchSizes, entryImages, parseMaxJobs } from '../lib/matrix-batches.mjs';
import { buildMatrix } from '../lib/nx-affected.mjs';
import { expandMatrix } from './support/gha-rehearsal.mjs';

const services = (count) => Array.from({ length: count }, (_, i) => `svc-${String(i).padStart(4, '0')}`);

/** What a job sees: GitHub's expansion of the matrix output (JSON round trip, as the plan job hands it over). */
const jobsOf = (matrix) => expandMatrix(JSON.parse(JSON.stringify({ include: matrix.include })));

function assertCovers(matrix, projects, maxJobs) {
  const jobs = jobsOf(matrix);
  assert.ok(jobs.length <= maxJobs, `${jobs.length} jobs > ${maxJobs}`);
  const images = jobs.flatMap(entryImages);
  assert.deepEqual(images.map((i) => i.project).sort(), [...projects].sort(), 'every image in exactly one job');
  for (const { project, image } of images) assert.equal(image, `secure-ci/${project}`);
  const sizes = jobs.map((job) => entryImages(job).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${Math.min(...sizes)}..${Math.max(...sizes)}`);
  assert.equal(new Set(jobs.map((job) => job.project)).size, jobs.length, 'job names (matrix.project) are unique');
  return jobs;
}

test('exactly 256 images: 256 jobs, one image each, the plain entries (no batch fields)', () => {
  const projects = services(256);
  const matrix = buildMatrix(projects);
  const jobs = assertCovers(matrix, projects, GITHUB_MATRIX_LIMIT);
  assert.equal(jobs.length, 256);
  assert.deepEqual(matrix.include[0], { project: 'svc-0000', image: 'secure-ci/svc-0000', dockerfile: 'docker/service/Dockerfile', context: '.' });
  assert.ok(matrix.include.every((entry) => entry.projects === undefined && entry.batch === undefined));
});

test('257 images: 256 batch entries, one of two images and 255 of one', () => {
  const projects = services(257);
  const matrix = buildMatrix(projects);
  const jobs = assertCovers(matrix, projects, GITHUB_MATRIX_LIMIT);
  assert.equal(jobs.length, 256);
  assert.deepEqual(batchSizes(257, 256).filter((n) => n === 2).length, 1);
  assert.deepEqual(matrix.include[0], {
    project: 'batch-001-of-256',
    batch: '1/256',
    projects: 'svc-0000 svc-0001',
    images: 'secure-ci/svc-0000 secure-ci/svc-0001',
    dockerfile: 'docker/service/Dockerfile',
    context: '.',
  });
  assert.equal(matrix.include[255].projects, 'svc-0256');
  assert.equal(matrix.any, true);
  assert.equal(matrix.projects.length, 257, 'projects lists every image, unbatched');
});

test('300 images with the base image affected: 256 jobs of one or two images, the base never in a batch', () => {
  const projects = services(300);
  const matrix = buildMatrix(['base-image', ...projects], { imagePrefix: 'ghcr.io/Acme/Shop' });
  assert.equal(matrix.baseAffected, true);
  assert.equal(matrix.include.length, 256);
  const images = matrix.include.flatMap(entryImages);
  assert.ok(!images.some((i) => i.project === 'base-image'));
  assert.equal(images.length, 300);
  assert.deepEqual(
    matrix.include.map((e) => e.projects.split(' ').length).reduce((counts, n) => ({ ...counts, [n]: (counts[n] ?? 0) + 1 }), {}),
    { 1: 212, 2: 44 },
  );
  assert.ok(images.every(({ project, image }) => image === `ghcr.io/acme/shop/${project}`));
  // The output stays far inside GitHub's 1 MB limit for job outputs (≈ 150 B per image with this prefix).
  assert.ok(JSON.stringify({ include: matrix.include }).length < 100_000);
});

test('--max-jobs: a smaller cap batches sooner; 300 images in 7 jobs of 42 or 43', () => {
  const projects = services(300);
  const jobs = assertCovers(buildMatrix(projects, { maxJobs: 7 }), projects, 7);
  assert.deepEqual(
    jobs.map((job) => entryImages(job).length),
    [43, 43, 43, 43, 43, 43, 42],
  );
  assert.equal(jobs[6].project, 'batch-7-of-7');
  // One job for everything.
  assert.equal(jobsOf(buildMatrix(projects, { maxJobs: 1 })).length, 1);
  // Fewer images than the cap: one job each.
  assert.equal(buildMatrix(services(3), { maxJobs: 7 }).include.length, 3);
});

test('parseMaxJobs: 1 to 256, one clear line otherwise (counter-examples)', () => {
  assert.equal(parseMaxJobs(undefined), 256);
  assert.equal(parseMaxJobs('1'), 1);
  assert.equal(parseMaxJobs('256'), 256);
  for (const bad of ['0', '257', '-1', '1.5', 'ten', '', ' ', '1e2'])
    assert.throws(
      () => parseMaxJobs(bad),
      (error) => error.exitCode === 2 && /^--max-jobs must be a whole number from 1 to 256/.test(error.message) && !error.message.includes('\n'),
      bad,
    );
});
