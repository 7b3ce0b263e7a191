// Whether a change touches the delivery pipeline itself. Such a change selects no image through Nx (the files are not
// image inputs), yet a bump of a pinned action or a change to the gate must run once before it reaches main: the PR
// plan then adds the base image to the image job's matrix (affected-matrix.mjs --exercise-pipeline).
// The set is derived from what the workflows actually run, never listed by hand:
//   - the workflow files themselves, and any local action they use (uses: ./...);
//   - every repository file a `run:` command names (node tools/x.mjs, .github/scripts/..., node --test globs) or a
//     `with:` input names (node-version-file: .node-version), and the import closure of the scripts among them
//     (esbuild's import walk, as Node would resolve it);
//   - repository files the closure's code names in string literals (.trivyignore: scan.mjs reads it);
//   - the lockfile entries of the npm packages that closure imports (and of `npx <bin>`), with their own dependencies:
//     package-lock.json counts as a pipeline change only when one of those entries changed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { minimatch } from 'minimatch';
import YAML from 'yaml';
import { $, stdoutOf } from './process.mjs';
import { workspaceRoot } from './workspace.mjs';

const SCRIPT = /\.(mjs|cjs|js)$/;
/** A repository path in a command: relative, with a file extension or a glob; quotes and `$VARS` are not paths. */
const PATH_TOKEN = /(?:^|[\s"'=(])((?:\.\/)?(?:[\w.*-]+\/)+[\w.*-]+\.[\w]+|\.[\w-]+(?:\.[\w]+)?)(?=$|[\s"';)|&])/gm;
/** What npx runs, by package (the bin names this repository's workflows use). */
const NPX_PACKAGES = { nx: 'nx', prettier: 'prettier', eslint: 'eslint', tsc: 'typescript', jest: 'jest' };
/** Named apart: compared package by package. */
const MANIFESTS = new Set(['package.json', 'package-lock.json']);

const packageName = (specifier) => (specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);

/** Repository files (tracked and untracked, not ignored) of a checkout. */
async function repositoryFiles(cwd) {
  return (await stdoutOf($({ cwd })`git ls-files -co --exclude-standard`, 'git ls-files')).split('\n').filter(Boolean);
}

const esbuildOptions = (cwd, entries) => ({
  entryPoints: entries.map((entry) => path.join(cwd, entry)),
  absWorkingDir: cwd,
  bundle: true,
  metafile: true,
  write: false,
  outdir: 'out',
  platform: 'node',
  format: 'esm',
  packages: 'external',
  logLevel: 'silent',
});

/**
 * The local modules a set of scripts loads (esbuild's import walk) and the npm packages they import. A script that
 * does not parse (a change in progress) is still in the set itself; only its imports cannot be followed.
 */
async function importClosure(cwd, entries) {
  if (!entries.length) return { modules: [], packages: [] };
  let metafiles;
  try {
    metafiles = [(await build(esbuildOptions(cwd, entries))).metafile];
  } catch {
    metafiles = [];
    for (const entry of entries)
      metafiles.push(
        await build(esbuildOptions(cwd, [entry])).then(
          (result) => result.metafile,
          () => textualImports(cwd, entry),
        ),
      );
  }
  const modules = new Set();
  const packages = new Set();
  for (const metafile of metafiles) {
    for (const [module, input] of Object.entries(metafile.inputs)) {
      modules.add(module);
      for (const imported of input.imports)
        if (imported.external && !/^node:/.test(imported.path) && !imported.path.startsWith('.')) packages.add(packageName(imported.path));
    }
  }
  return { modules: [...modules], packages: [...packages] };
}

/**
 * For a script esbuild cannot parse: its imports read from the text (static, dynamic and require), followed through
 * the files that exist, in the shape of esbuild's metafile.
 */
function textualImports(cwd, entry) {
  const inputs = {};
  const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
  const visit = (file) => {
    if (inputs[file] || !existsSync(path.join(cwd, file))) return;
    inputs[file] = { imports: [] };
    for (const [, specifier] of readFileSync(path.join(cwd, file), 'utf8').matchAll(IMPORT)) {
      if (specifier.startsWith('.')) {
        const target = path.relative(cwd, path.resolve(cwd, path.dirname(file), specifier));
        inputs[file].imports.push({ path: target });
        visit(target);
      } else inputs[file].imports.push({ path: specifier, external: true });
    }
  };
  visit(entry);
  return { inputs };
}

/** Lockfile keys (node_modules/...) of `packages` and everything they depend on, as npm resolves nested copies. */
export function lockfileEntries(lock, packages) {
  const entries = lock?.packages ?? {};
  const found = new Set();
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dir.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
      const key = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (entries[key]) return key;
      if (!dir) return null;
    }
  };
  const visit = (key) => {
    if (!key || found.has(key)) return;
    found.add(key);
    const entry = entries[key];
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies })) visit(resolve(key, name));
  };
  for (const name of packages) visit(resolve('', name));
  return [...found].sort();
}

/**
 * What the workflows run, derived from the checkout at `cwd`: {files: repository paths, packages: npm package names,
 * lockfileEntries: package-lock.json keys}.
 */
export async function pipelineInputs({ cwd = workspaceRoot } = {}) {
  const all = await repositoryFiles(cwd);
  const exists = new Set(all);
  const files = new Set(all.filter((file) => /^\.github\/(workflows|actions)\//.test(file)));
  const packages = new Set();
  const named = (token) => {
    const clean = token.replace(/^\.\//, '');
    if (MANIFESTS.has(clean)) return [];
    return clean.includes('*') ? all.filter((file) => minimatch(file, clean, { dot: true })) : exists.has(clean) ? [clean] : [];
  };
  for (const file of readdirSync(path.join(cwd, '.github/workflows')).filter((f) => /\.ya?ml$/.test(f))) {
    const workflow = YAML.parse(readFileSync(path.join(cwd, '.github/workflows', file), 'utf8'));
    for (const job of Object.values(workflow?.jobs ?? {})) {
      for (const step of job.steps ?? []) {
        if (typeof step.uses === 'string' && step.uses.startsWith('./')) {
          const dir = step.uses.replace(/^\.\//, '').replace(/\/$/, '');
          for (const f of all.filter((file) => file.startsWith(`${dir}/`))) files.add(f);
        }
        for (const value of Object.values(step.with ?? {})) if (typeof value === 'string') for (const f of named(value.trim())) files.add(f);
        if (typeof step.run !== 'string') continue;
        for (const [, token] of step.run.matchAll(PATH_TOKEN)) for (const f of named(token)) files.add(f);
        for (const [, bin] of step.run.matchAll(/\bnpx\s+(?:--\S+\s+)*([\w@/.-]+)/g)) packages.add(NPX_PACKAGES[bin] ?? packageName(bin));
      }
    }
  }
  // The import closure of the scripts, then files its code names in string literals (scan.mjs's '.trivyignore',
  // a createRequire('./nx-graph.cjs')), repeated until nothing new turns up.
  const scanned = new Set();
  for (let pending = [...files].filter((file) => SCRIPT.test(file)); pending.length;) {
    const closure = await importClosure(cwd, pending);
    for (const name of closure.packages) packages.add(name);
    const found = new Set();
    for (const module of closure.modules) {
      files.add(module);
      if (!SCRIPT.test(module) || scanned.has(module)) continue;
      scanned.add(module);
      for (const [, literal] of readFileSync(path.join(cwd, module), 'utf8').matchAll(/['"`]((?:\.{1,2}\/)*(?:[\w.-]+\/)*\.?[\w-]+(?:\.[\w]+)*)['"`]/g)) {
        const file = literal.startsWith('.') && literal.includes('/') ? path.relative(cwd, path.resolve(cwd, path.dirname(module), literal)) : literal;
        if (file.includes('.') && exists.has(file) && !MANIFESTS.has(file) && !files.has(file)) found.add(file);
      }
    }
    for (const file of found) files.add(file);
    pending = [...found].filter((file) => SCRIPT.test(file) && !scanned.has(file));
  }
  const lockFile = path.join(cwd, 'package-lock.json');
  const lock = existsSync(lockFile) ? JSON.parse(readFileSync(lockFile, 'utf8')) : null;
  return { files: [...files].sort(), packages: [...packages].sort(), lockfileEntries: lockfileEntries(lock, packages) };
}

async function lockAt(cwd, revision) {
  if (!revision) return existsSync(path.join(cwd, 'package-lock.json')) ? JSON.parse(readFileSync(path.join(cwd, 'package-lock.json'), 'utf8')) : null;
  const shown = await $({ cwd, nothrow: true })`git show ${`${revision}:package-lock.json`}`;
  return shown.exitCode === 0 ? JSON.parse(shown.stdout) : null;
}

/** Files changed between `base` and `head` (the same range nx affected uses) that belong to the pipeline. */
export async function changedPipelineFiles({ cwd = workspaceRoot, base, head }) {
  if (!base) return [];
  const range = head ? [`${base}...${head}`] : [base];
  const changed = (await stdoutOf($({ cwd, nothrow: true })`git diff --name-only ${range} --`, `git diff ${range.join(' ')}`)).split('\n').filter(Boolean);
  if (!changed.length) return [];
  const inputs = await pipelineInputs({ cwd });
  const pipeline = new Set(inputs.files);
  const hits = changed.filter((file) => pipeline.has(file) || /^\.github\/(workflows|actions)\//.test(file));
  if (changed.includes('package-lock.json')) {
    const mergeBase = head ? (await stdoutOf($({ cwd })`git merge-base ${base} ${head}`, 'git merge-base')).trim() : base;
    const [before, after] = await Promise.all([lockAt(cwd, mergeBase), lockAt(cwd, head)]);
    const keys = new Set([...inputs.lockfileEntries, ...lockfileEntries(before, inputs.packages)]);
    const differs = [...keys].some((key) => JSON.stringify(before?.packages?.[key] ?? null) !== JSON.stringify(after?.packages?.[key] ?? null));
    if (differs) hits.push('package-lock.json');
  }
  return hits;
}
