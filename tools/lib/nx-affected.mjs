// Affected Nx projects with a given target, and the GitHub Actions build matrix derived from them.
import { BASE_DOCKERFILE, BASE_PROJECT, IMAGE_PREFIX, SERVICE_DOCKERFILE } from './defaults.cjs';
import { fail } from './errors.mjs';
import { GITHUB_MATRIX_LIMIT, batchMatrixEntries } from './matrix-batches.mjs';
import { normalizeImageName } from './metadata/names.mjs';
import { $ } from './process.mjs';

/** Range for `nx affected`: flags win over NX_BASE/NX_HEAD, else nx's own defaults (nx.json defaultBase, working tree). */
export function affectedRange({ base, head } = {}, env = process.env) {
  return { base: base || env.NX_BASE || undefined, head: head || env.NX_HEAD || undefined };
}

/** The arguments after `npx --no nx`; `all` lists every project with the target instead of the affected ones. */
export function nxShowProjectsArgs({ base, head, withTarget = 'docker-build', all = false } = {}) {
  if (all) return ['show', 'projects', `--withTarget=${withTarget}`, '--json'];
  const args = ['show', 'projects', '--affected', `--withTarget=${withTarget}`, '--json'];
  if (base) args.push(`--base=${base}`);
  if (head) args.push(`--head=${head}`);
  return args;
}

function parseProjectList(stdout) {
  const candidates = [
    stdout.trim(),
    ...stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('['))
      .reverse(),
  ];
  for (const text of candidates) {
    try {
      const list = JSON.parse(text);
      if (Array.isArray(list) && list.every((p) => typeof p === 'string')) return list;
    } catch {
      // try the next candidate
    }
  }
  return null;
}

/**
 * Runs `npx --no nx show projects --affected --withTarget=<target> --json [--base --head]` in `cwd`.
 * @returns {Promise<string[]>} project names, sorted
 */
export async function affectedProjects({ cwd = process.cwd(), env = process.env, base, head, withTarget = 'docker-build', all = false } = {}) {
  const nx = await $({ cwd, env, nothrow: true, timeout: '300s' })`npx --no nx ${nxShowProjectsArgs({ base, head, withTarget, all })}`;
  if (!nx.ok) {
    const detail =
      `${nx.stderr}\n${nx.stdout}`
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !/^(NX\s*$|>)/.test(l)) ?? `exit ${nx.exitCode}`;
    fail(`nx show projects --affected failed: ${detail.replace(/^NX\s+/, '')}`, 1);
  }
  const list = parseProjectList(nx.stdout);
  if (!list) fail(`nx show projects printed no JSON project list: ${nx.stdout.trim().split('\n')[0] ?? ''}`, 1);
  return [...new Set(list)].sort();
}

/**
 * GitHub Actions matrix for affected image projects. The matrix lists service images only; the shared base is never
 * a matrix entry: `baseAffected` tells the workflow to build it first (one job), then every matrix job builds FROM it.
 * `any` is true when the matrix has entries (the condition for the matrix job); when only the base is affected the
 * matrix is empty, any=false and baseAffected=true (the base job still runs, nothing is built twice).
 * More services than `maxJobs` (GitHub's cap: 256): the entries are balanced batches (lib/matrix-batches.mjs), so the
 * matrix never has more than `maxJobs` entries and every service is in exactly one.
 * @param {string[]} projects  affected projects that have the docker-build target
 * @param {{imagePrefix?: string, baseProject?: string, maxJobs?: number}} [options]
 * @returns {{include: {project: string, image: string, dockerfile: string, context: string, batch?: string,
 *   projects?: string, images?: string}[], any: boolean,
 *   baseAffected: boolean, projects: string[], base: {project: string, image: string, dockerfile: string, context: string}|null}}
 */
export function buildMatrix(projects, { imagePrefix = IMAGE_PREFIX, baseProject = BASE_PROJECT, maxJobs = GITHUB_MATRIX_LIMIT } = {}) {
  const prefix = normalizeImageName(imagePrefix.replace(/\/+$/, ''));
  const sorted = [...new Set(projects)].sort();
  const entry = (project) => ({
    project,
    image: `${prefix}/${project}`,
    dockerfile: project === baseProject ? BASE_DOCKERFILE : SERVICE_DOCKERFILE,
    context: '.',
  });
  const baseAffected = sorted.includes(baseProject);
  const include = batchMatrixEntries(sorted.filter((p) => p !== baseProject).map(entry), maxJobs);
  return { include, any: include.length > 0, baseAffected, projects: sorted, base: baseAffected ? entry(baseProject) : null };
}
