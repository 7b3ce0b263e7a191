// title / description / licenses labels from a project's package.json (not from the GitHub API).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CliError } from '../errors.mjs';

const PROJECT_DIRS = ['apps', 'libs', 'docker', 'packages'];

function readJson(file, what) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${error.code ?? 'invalid JSON'}`);
  }
}

/** Root folder (absolute) of the Nx project called `name`: the folder whose project.json has that name. */
export function findProjectRoot(workspaceRoot, name) {
  const candidates = [];
  for (const dir of PROJECT_DIRS) {
    const abs = path.join(workspaceRoot, dir);
    if (!existsSync(abs)) continue;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (entry.isDirectory()) candidates.push(path.join(abs, entry.name));
    }
  }
  candidates.push(path.join(workspaceRoot, 'tools'));
  for (const root of candidates) {
    const projectJson = path.join(root, 'project.json');
    if (!existsSync(projectJson)) continue;
    let project;
    try {
      project = JSON.parse(readFileSync(projectJson, 'utf8'));
    } catch {
      continue;
    }
    if (project?.name === name) return root;
  }
  const fallback = path.join(workspaceRoot, 'apps', name);
  return existsSync(fallback) ? fallback : null;
}

function licenseOf(pkg) {
  if (typeof pkg?.license === 'string') return pkg.license;
  if (typeof pkg?.license?.type === 'string') return pkg.license.type;
  return '';
}

/**
 * Label facts of a project: from `packageJson` (a path) or the package.json of Nx project `project`.
 * licenses falls back to the workspace's root package.json; title falls back to the project name.
 * @returns {{title: string, description: string, licenses: string}|null} null when neither option is given
 */
export function projectFacts({ workspaceRoot, project, packageJson }) {
  if (!project && !packageJson) return null;
  let file = packageJson ? path.resolve(packageJson) : null;
  if (!file) {
    const root = findProjectRoot(workspaceRoot, project);
    if (!root) throw new CliError(`unknown project "${project}" (no project.json with that name under ${PROJECT_DIRS.join(', ')})`);
    file = path.join(root, 'package.json');
  }
  const pkg = packageJson || existsSync(file) ? readJson(file, 'package.json') : {};
  const rootFile = path.join(workspaceRoot, 'package.json');
  const rootPkg = existsSync(rootFile) && path.resolve(rootFile) !== file ? readJson(rootFile, 'package.json') : {};
  return {
    title: typeof pkg.name === 'string' && pkg.name ? pkg.name : (project ?? ''),
    description: typeof pkg.description === 'string' ? pkg.description : '',
    licenses: licenseOf(pkg) || licenseOf(rootPkg),
  };
}
