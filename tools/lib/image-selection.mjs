// Exact image selection: which images a change set has to rebuild.
//
// `nx affected` marks a project affected by ANY of its files (nrwl/nx#30169: it ignores `inputs`), so a spec, a
// test fixture or an image test would rebuild images, and a lockfile change rebuilds every image unless Nx is told
// otherwise. Here a project is selected when a file its image build reads changed, and nothing else:
//   1. changed files (git, the same range rules as `nx affected`);
//   2. kept when some image build reads them: matched by the `docker-build` inputs of an image project (its
//      `production` files, `^production` of everything it depends on, the workspace files listed in
//      targetDefaults.docker-build.inputs; nx.json always);
//   3. the dependency manifests are compared package by package (package.json dependencies/devDependencies/
//      overrides, package-lock.json entries by version, integrity and resolved URL): a change that changes no
//      package changes nothing;
//   4. selected: the image projects that depend (through the graph, npm packages included) on a project owning a
//      kept file, on a changed npm package, or that list a changed workspace file among their own inputs.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { minimatch } from 'minimatch';
import { fileURLToPath } from 'node:url';
import { CliError } from './errors.mjs';
import { $, stdoutOf } from './process.mjs';

export const TARGET = 'docker-build';
const GRAPH_SCRIPT = fileURLToPath(new URL('./nx-graph.cjs', import.meta.url));

/** stdout of `git <args>` in `cwd`; a failure is one line (exit 1). */
const gitOutput = ({ cwd, env }, args) => stdoutOf($({ cwd, env, nothrow: true, timeout: '300s' })`git ${args}`, `git ${args[0]}`);

const lines = (text) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/**
 * The files changed in the range, as `nx affected` sees them: base and head -> merge-base(base, head)..head;
 * base only -> merge-base(base, HEAD) to the working tree, plus untracked files.
 */
export async function changedFiles({ cwd, env, base, head }) {
  const git = (...args) => gitOutput({ cwd, env }, args);
  const unknown = (error) => {
    throw new CliError(
      `unknown git range ${base}..${head ?? 'working tree'}: ${error.message.replace(/^git (merge-base|cat-file) failed \([^)]*\): /, '')}`,
      1,
    );
  };
  // A tree as the base (publish.yml diffs against the empty tree to select every image) has no merge-base: diff from it.
  const isTree = (await git('cat-file', '-t', base).catch(unknown)).trim() === 'tree';
  const from = isTree ? base : (await git('merge-base', base, head ?? 'HEAD').catch(unknown)).trim();
  if (head) return lines(await git('diff', '--name-only', '--no-renames', '--relative', from, head));
  const tracked = lines(await git('diff', '--name-only', '--no-renames', '--relative', from));
  const untracked = lines(await git('ls-files', '--others', '--exclude-standard'));
  return [...new Set([...tracked, ...untracked])];
}

/** The project graph with npm packages and each project's files (tools/lib/nx-graph.cjs in `cwd`). */
export async function projectGraph({ cwd, env }) {
  // Plugins in-process: the graph is read once, and isolated plugin workers cost seconds per run.
  const graph = $({ cwd, env: { NX_ISOLATE_PLUGINS: 'false', ...env }, nothrow: true, timeout: '300s' })`${process.execPath} ${GRAPH_SCRIPT}`;
  return JSON.parse(await stdoutOf(graph, 'reading the Nx project graph'));
}

const match = (file, glob) => minimatch(file, glob, { dot: true });

/**
 * File rules of a target's inputs: `{project, include, exclude}` for project files (a negation applies within the
 * named input that states it, as in Nx: production = default minus tests) and globs of workspace files.
 */
function expandInputs(graph, namedInputs, project, inputs, rules, seen) {
  const { root } = graph.nodes[project].data;
  const named = { ...namedInputs, ...(graph.nodes[project].data.namedInputs ?? {}) };
  const scope = { project, include: [], exclude: [] };
  for (const input of inputs) {
    const text = typeof input === 'string' ? input : input?.fileset;
    if (typeof text !== 'string') continue; // runtime, env, externalDependencies, dependentTasksOutputFiles: not files
    const negated = text.startsWith('!');
    const body = negated ? text.slice(1) : text;
    if (body.startsWith('^')) {
      for (const dep of closure(graph.dependencies, project)) {
        const key = `${dep}:${body}`;
        const depNamed = { ...namedInputs, ...(graph.nodes[dep]?.data.namedInputs ?? {}) };
        if (!graph.nodes[dep] || seen.has(key) || !depNamed[body.slice(1)]) continue;
        seen.add(key);
        rules.projects.push(expandInputs(graph, namedInputs, dep, depNamed[body.slice(1)], rules, seen));
      }
    } else if (body.startsWith('{projectRoot}/')) {
      (negated ? scope.exclude : scope.include).push(path.posix.join(root, body.slice('{projectRoot}/'.length)));
    } else if (body.startsWith('{workspaceRoot}/')) {
      if (!negated) rules.workspace.push({ glob: body.slice('{workspaceRoot}/'.length), project: rules.target });
    } else if (named[body]) {
      const inner = expandInputs(graph, namedInputs, project, named[body], rules, seen);
      scope.include.push(...inner.include);
      scope.exclude.push(...inner.exclude);
    }
  }
  return scope;
}

/** Every project reachable from `start` along `edges` (name -> [{target}]). */
function closure(edges, start) {
  const out = new Set();
  const walk = (name) => {
    for (const { target } of edges[name] ?? []) {
      if (!out.has(target)) {
        out.add(target);
        walk(target);
      }
    }
  };
  walk(start);
  return out;
}

/** Which files the `docker-build` targets read: project file rules and workspace globs (with the image that reads each). */
export function imageBuildRules(graph, namedInputs) {
  const rules = { projects: [], workspace: [] };
  for (const [name, node] of Object.entries(graph.nodes)) {
    const inputs = node.data.targets?.[TARGET]?.inputs;
    if (!inputs) continue;
    rules.target = name;
    rules.projects.push(expandInputs(graph, namedInputs, name, inputs, rules, new Set()));
  }
  delete rules.target;
  return rules;
}

/** The changed files some image build reads, and the image projects that read each changed workspace file. */
export function filesImageBuildsRead(files, graph, namedInputs) {
  const rules = imageBuildRules(graph, namedInputs);
  const owner = new Map(Object.entries(graph.files ?? {}).flatMap(([name, list]) => list.map((f) => [f, name])));
  const roots = Object.entries(graph.nodes).map(([name, node]) => [name, node.data.root]);
  const ownerByRoot = (file) => roots.filter(([, r]) => file === r || file.startsWith(`${r}/`)).sort((a, b) => b[1].length - a[1].length)[0]?.[0];
  const read = new Map(); // file -> projects it touches directly
  for (const file of files) {
    const readers = rules.workspace.filter((w) => match(file, w.glob)).map((w) => w.project);
    // a file Nx does not track (.nxignore, .gitignore) but that exists is not part of any project
    const projectOf = owner.get(file) ?? (graph.cwdHas?.(file) ? undefined : ownerByRoot(file));
    const inProject =
      projectOf && rules.projects.some((r) => r.project === projectOf && r.include.some((g) => match(file, g)) && !r.exclude.some((g) => match(file, g)));
    if (readers.length || inProject) read.set(file, [...new Set([...readers, ...(inProject ? [projectOf] : [])])]);
  }
  return read;
}

/** npm package names whose declared range or locked version/integrity/source differs between two manifests. */
export function changedPackages(file, before, after) {
  let a;
  let b;
  try {
    a = before ? JSON.parse(before) : {};
    b = after ? JSON.parse(after) : {};
  } catch {
    return null; // unreadable: every package counts as changed
  }
  const changed = new Set();
  const compare = (x = {}, y = {}, nameOf) => {
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (JSON.stringify(x[key]) !== JSON.stringify(y[key])) {
        const name = nameOf(key);
        if (name) changed.add(name);
      }
    }
  };
  if (file === 'package.json') {
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'overrides']) compare(a[field], b[field], (k) => k);
  } else {
    const facts = (entries = {}) =>
      Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { version: v.version, integrity: v.integrity, resolved: v.resolved }]));
    compare(facts(a.packages), facts(b.packages), (k) =>
      k.includes('node_modules/') ? k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length) : null,
    );
  }
  return changed;
}

/**
 * The projects with a docker-build target whose image a change set has to rebuild, sorted, and why.
 * @returns {Promise<{projects: string[], changed: string[], read: string[], packages: string[]}>}
 */
export async function selectImages({ cwd = process.cwd(), env = process.env, base, head } = {}) {
  const nxJson = JSON.parse(readFileSync(path.join(cwd, 'nx.json'), 'utf8'));
  const from = base ?? nxJson.defaultBase ?? 'main';
  const changed = await changedFiles({ cwd, env, base: from, head });
  const none = { projects: [], changed, read: [], packages: [] };
  if (changed.length === 0) return none;
  const graph = await projectGraph({ cwd, env });
  graph.cwdHas = (file) => existsSync(path.join(cwd, file));
  const images = Object.keys(graph.nodes).filter((n) => graph.nodes[n].data.targets?.[TARGET]);
  if (changed.includes('nx.json')) return { ...none, projects: images.sort(), read: ['nx.json'] };
  const read = filesImageBuildsRead(changed, graph, nxJson.namedInputs ?? {});
  const touched = new Set([...read.values()].flat());
  const packages = new Set();
  for (const manifest of ['package.json', 'package-lock.json'].filter((f) => changed.includes(f))) {
    const revision = async (rev) =>
      rev ? gitOutput({ cwd, env }, ['show', `${rev}:${manifest}`]).catch(() => '') : readFileSync(path.join(cwd, manifest), 'utf8');
    const mergeBase = (await gitOutput({ cwd, env }, ['merge-base', from, head ?? 'HEAD'])).trim();
    const names = changedPackages(manifest, await revision(mergeBase), existsSync(path.join(cwd, manifest)) || head ? await revision(head) : '');
    if (names === null) return { ...none, projects: images.sort(), read: [manifest] };
    for (const name of names) packages.add(name);
  }
  for (const [node, data] of Object.entries(graph.externalNodes ?? {})) if (packages.has(data.data?.packageName)) touched.add(node);
  // reverse edges: who depends on whom
  const dependents = {};
  for (const [source, deps] of Object.entries(graph.dependencies)) for (const { target } of deps) (dependents[target] ??= []).push({ target: source });
  const affected = new Set(touched);
  for (const name of touched) for (const d of closure(dependents, name)) affected.add(d);
  return { projects: images.filter((n) => affected.has(n)).sort(), changed, read: [...read.keys()], packages: [...packages].sort() };
}
