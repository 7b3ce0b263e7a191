#!/usr/bin/env node
// The CI pipeline, runnable locally with the same tools the workflows call. For the base image first, then every
// affected service (FROM the base digest this run pushed and scanned, per platform):
//   build each platform once, with its final labels (docker-build) -> push by digest, no release tag (push)
//   -> gate every platform digest (scan) -> tag that digest in the registry (tag): never a rebuild
//
// Usage: node tools/pipeline.mjs [--all | --base REF [--head REF] | --projects LIST] [--registry PREFIX | --no-push]
//          [--base-image REF] [--platforms P[,P...]] [--tags RULES] [--flavor F] [--secret SPEC]... [--build-arg K=V]...
//          [--allow-missing-scanner] [--allow-missing-node-index]
//   --projects   exactly these services, in order (a matrix batch: its `projects`, space- or comma-separated)
//   --base-image a base this run already pushed and gated (image@digest, the workflows' base job): the services build
//                FROM it and the base is not built again
//   --registry   where images go: <registry>/<project> (e.g. ghcr.io/acme/shop, 127.0.0.1:5000/acme)
//   --platforms  default linux/amd64,linux/arm64 in GitHub Actions, else this machine's platform
//   --tags       tag rules for pushed images (docker/metadata-action syntax); default: the build's own tags
//   --no-push    build and gate the local image of one platform only; nothing is pushed or tagged
import { appendFileSync } from 'node:fs';
import { dockerBuild, parseBuildArgs } from './docker-build.mjs';
import { BASE_PROJECT } from './lib/defaults.cjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { selectImages } from './lib/image-selection.mjs';
import { affectedProjects, affectedRange, buildMatrix } from './lib/nx-affected.mjs';
import { $, describeFailure, streamLines } from './lib/process.mjs';
import { parseSecretSpec } from './lib/secrets.mjs';
import { workspaceRoot } from './lib/workspace.mjs';
import { buildPlatforms } from './build-platforms.mjs';
import { parsePlatforms, push, runId } from './push.mjs';
import { scan } from './scan.mjs';
import { tag } from './tag.mjs';

const OPTIONS = {
  all: { type: 'boolean' },
  base: { type: 'string' },
  head: { type: 'string' },
  projects: { type: 'string' },
  'base-image': { type: 'string' },
  registry: { type: 'string' },
  'no-push': { type: 'boolean' },
  tags: { type: 'string' },
  flavor: { type: 'string' },
  secret: { type: 'string', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  platforms: { type: 'string' },
  'allow-missing-scanner': { type: 'boolean' },
  'allow-missing-node-index': { type: 'boolean' },
};

/** Both release platforms in GitHub Actions (as publish.yml ships them), else the one this machine runs. */
export function defaultPlatforms(env = process.env, arch = process.arch) {
  if (env.GITHUB_ACTIONS === 'true') return ['linux/amd64', 'linux/arm64'];
  return [`linux/${{ x64: 'amd64', arm64: 'arm64' }[arch] ?? arch}`];
}

export function parsePipelineArgs(argv) {
  const { values } = parseCliArgs({ args: argv, options: OPTIONS });
  if (values.all && (values.base || values.head)) fail('--all and --base/--head exclude each other');
  if (values.projects !== undefined && (values.all || values.base || values.head)) fail('--projects and --all/--base/--head exclude each other');
  if (values.projects !== undefined) {
    values.projects = parseProjectList(values.projects);
    if (!values.projects.length) fail('--projects needs at least one project, e.g. --projects catalog,orders');
  }
  if (values['base-image'] !== undefined && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$/.test(values['base-image']))
    fail(`invalid --base-image '${values['base-image']}' (expected a pushed base by digest: host/path/base-image@sha256:<64 hex>)`);
  if (values['base-image'] && values['no-push']) fail('--base-image needs a registry: the local build of one platform uses the local base');
  if (!values.registry && !values['no-push']) fail('say where to push with --registry PREFIX (e.g. ghcr.io/acme/shop), or pass --no-push');
  if (values.registry && values['no-push']) fail('--registry and --no-push exclude each other');
  if (values.registry && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/i.test(values.registry))
    fail(`invalid --registry '${values.registry}' (expected host[:port][/path])`);
  for (const spec of values.secret ?? []) parseSecretSpec(spec);
  parseBuildArgs(values['build-arg']);
  const platforms = values.platforms !== undefined ? parsePlatforms(values.platforms) : defaultPlatforms();
  if (!platforms.length) fail('--platforms needs at least one platform, e.g. linux/amd64');
  if (values['no-push'] && platforms.length > 1)
    fail('--no-push builds one platform (the local image store holds one per tag): pass one --platforms value, or push with --registry');
  return { ...values, platforms };
}

const nxEnv = () => ({ ...process.env, NX_DAEMON: 'false' });

/** A matrix batch's list (`projects`, space-separated) or a comma-separated one; names as Nx projects have them. */
export function parseProjectList(text) {
  const list = text.split(/[\s,]+/).filter(Boolean);
  for (const name of list) if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) fail(`invalid project name '${name}' in --projects`);
  return [...new Set(list)];
}

/** Affected service projects with a docker-build target (all of them with --all), as the PR matrix computes them. */
async function selectProjects({ all, base, head, projects: given }) {
  if (given) {
    const known = new Set(await affectedProjects({ cwd: workspaceRoot, env: nxEnv(), all: true }));
    const unknown = given.filter((name) => !known.has(name));
    if (unknown.length) fail(`--projects: no image project named ${unknown.join(', ')}`);
    return { projects: given.filter((name) => name !== BASE_PROJECT), baseAffected: given.includes(BASE_PROJECT) };
  }
  const projects = all
    ? await affectedProjects({ cwd: workspaceRoot, env: nxEnv(), all })
    : (await selectImages({ cwd: workspaceRoot, env: nxEnv(), ...affectedRange({ base, head }) })).projects;
  const matrix = buildMatrix(projects);
  return { projects: matrix.include.map((entry) => entry.project), baseAffected: Boolean(all) || matrix.baseAffected };
}

function summarize(results) {
  const lines = ['| image | digest | platforms (scanned digests) | tags |', '| --- | --- | --- | --- |'];
  for (const r of results)
    lines.push(
      `| ${r.image} | ${r.digest ?? 'not pushed'} | ${Object.entries(r.platforms ?? {})
        .map(([p, d]) => `${p} ${d}`)
        .join('<br>')} | ${r.tags.join('<br>')} |`,
    );
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `### Images\n\n${lines.join('\n')}\n`);
  return lines.join('\n');
}

/**
 * One image through the whole flow. With a registry: every platform built once (its own build record), pushed by
 * digest together as one index, gated platform by platform, and only then tagged. Returns the summary row.
 */
async function shipImage(project, options, { secrets, buildArgs, run, base }) {
  const scanOptions = { allowMissingScanner: options['allow-missing-scanner'], allowMissingNodeIndex: options['allow-missing-node-index'] };
  if (!options.registry) {
    const [platform] = options.platforms;
    await dockerBuild({ project, secrets, buildArgs: { ...buildArgs }, platform, tags: options.tags, flavor: options.flavor });
    await scan(project, scanOptions);
    return { image: project, tags: [] };
  }
  const image = `${options.registry}/${project}`.toLowerCase();
  // A service builds FROM the base digest this run pushed and scanned (BuildKit picks each platform's manifest).
  const fromBase = base ? { BASE_IMAGE: base } : {};
  await buildPlatforms(project, {
    platforms: options.platforms,
    image,
    secrets,
    buildArgs: { ...buildArgs, ...fromBase },
    tags: options.tags,
    flavor: options.flavor,
  });
  await push(project, { image, platforms: options.platforms, run });
  const scanned = await scan(project, scanOptions);
  if (scanned.skipped) fail(`${project} was not scanned (trivy is missing), so it is not tagged: its digest ${image} stays untagged`, 1);
  const record = await tag(project, { tags: options.tags, flavor: options.flavor });
  return {
    image,
    digest: record.digest,
    platforms: Object.fromEntries(Object.entries(record.platforms).map(([p, m]) => [p, m.digest])),
    tags: record.pushed.tags,
    record,
  };
}

export async function pipeline(options) {
  const { projects, baseAffected } = await selectProjects(options);
  if (!projects.length) {
    console.log('pipeline: nothing affected, no image to build');
    return [];
  }
  console.log(`pipeline: affected ${projects.join(', ')}${baseAffected ? ' (base image changed)' : ''}; platforms ${options.platforms.join(', ')}`);
  const built = await streamLines(
    $({ cwd: workspaceRoot, env: nxEnv(), nothrow: true })`npx nx run-many -t build ${`--projects=${projects.join(',')}`} --outputStyle=static`,
  );
  if (!built.ok) fail(describeFailure(built, 'nx run-many -t build'), 1);
  const secrets = (options.secret ?? []).map(parseSecretSpec);
  const buildArgs = parseBuildArgs(options['build-arg']);
  const run = runId();
  // The base is (re)built first, so services never build FROM a stale base; BuildKit makes an unchanged one instant.
  // With --base-image (a batch of the workflows' matrix) the base job of the run already built and gated it.
  const results = [];
  let baseRef = options['base-image'];
  if (!baseRef) {
    const baseRow = await shipImage(BASE_PROJECT, options, { secrets: [], buildArgs: {}, run });
    results.push(baseRow);
    baseRef = baseRow.record ? `${baseRow.record.pushed.image}@${baseRow.record.digest}` : undefined;
  }
  // One image after another, each with its own build record: a matrix batch runs the same way.
  for (const project of projects) results.push(await shipImage(project, options, { secrets, buildArgs, run, base: baseRef }));
  console.log(summarize(results));
  return results;
}

if (isMain(import.meta.url)) {
  runMain(() => pipeline(parsePipelineArgs(process.argv.slice(2))));
}
