#!/usr/bin/env node
// The CI pipeline, runnable locally with the same tools the workflows call:
//   affected -> build (base first, then each affected service FROM it, with secrets) -> scan -> tag -> push
//
// Usage: node tools/pipeline.mjs [--all | --base REF [--head REF]] [--registry PREFIX | --no-push]
//          [--tags RULES] [--flavor F] [--secret SPEC]... [--build-arg K=V]... [--allow-missing-scanner]
//   --registry  where images go: <registry>/<project> (e.g. ghcr.io/acme/shop, 127.0.0.1:5000/acme)
//   --tags      tag rules for pushed images (docker/metadata-action syntax); default: the build's own tags
import { appendFileSync } from 'node:fs';
import { dockerBuild, parseBuildArgs } from './docker-build.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { execa } from './lib/exec.mjs';
import { selectImages } from './lib/image-selection.mjs';
import { BASE_PROJECT, affectedProjects, affectedRange, buildMatrix } from './lib/nx-affected.mjs';
import { parseSecretSpec } from './lib/secrets.mjs';
import { workspaceRoot } from './lib/workspace.mjs';
import { push } from './push.mjs';
import { scan } from './scan.mjs';

const OPTIONS = {
  all: { type: 'boolean' },
  base: { type: 'string' },
  head: { type: 'string' },
  registry: { type: 'string' },
  'no-push': { type: 'boolean' },
  tags: { type: 'string' },
  flavor: { type: 'string' },
  secret: { type: 'string', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  'allow-missing-scanner': { type: 'boolean' },
};

export function parsePipelineArgs(argv) {
  const { values } = parseCliArgs({ args: argv, options: OPTIONS });
  if (values.all && (values.base || values.head)) fail('--all and --base/--head exclude each other');
  if (!values.registry && !values['no-push']) fail('say where to push with --registry PREFIX (e.g. ghcr.io/acme/shop), or pass --no-push');
  if (values.registry && values['no-push']) fail('--registry and --no-push exclude each other');
  if (values.registry && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/i.test(values.registry)) fail(`invalid --registry '${values.registry}' (expected host[:port][/path])`);
  for (const spec of values.secret ?? []) parseSecretSpec(spec);
  parseBuildArgs(values['build-arg']);
  return values;
}

const nxEnv = () => ({ ...process.env, NX_DAEMON: 'false' });

/** Affected service projects with a docker-build target (all of them with --all), as the PR matrix computes them. */
async function selectProjects({ all, base, head }) {
  const projects = all
    ? await affectedProjects({ cwd: workspaceRoot, env: nxEnv(), all })
    : (await selectImages({ cwd: workspaceRoot, env: nxEnv(), ...affectedRange({ base, head }) })).projects;
  const matrix = buildMatrix(projects);
  return { projects: matrix.include.map((entry) => entry.project), baseAffected: Boolean(all) || matrix.baseAffected };
}

function summarize(results) {
  const lines = ['| image | digest | tags |', '| --- | --- | --- |'];
  for (const r of results) lines.push(`| ${r.image} | ${r.digest ?? 'not pushed'} | ${r.tags.join('<br>')} |`);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `### Images\n\n${lines.join('\n')}\n`);
  return lines.join('\n');
}

export async function pipeline(options) {
  const { projects, baseAffected } = await selectProjects(options);
  if (!projects.length) {
    console.log('pipeline: nothing affected, no image to build');
    return [];
  }
  console.log(`pipeline: affected ${projects.join(', ')}${baseAffected ? ' (base image changed)' : ''}`);
  await execa('npx', ['nx', 'run-many', '-t', 'build', `--projects=${projects.join(',')}`, '--outputStyle=static'], { cwd: workspaceRoot, env: nxEnv(), stdio: 'inherit' });
  const secrets = (options.secret ?? []).map(parseSecretSpec);
  const buildArgs = parseBuildArgs(options['build-arg']);
  // The base is always (re)built first, so services never build FROM a stale base; BuildKit makes an unchanged one instant.
  await dockerBuild({ project: BASE_PROJECT, secrets: [], buildArgs: {} });
  const results = [];
  for (const project of projects) {
    await dockerBuild({ project, secrets, buildArgs });
    await scan(project, { allowMissingScanner: options['allow-missing-scanner'] });
    if (options.registry) {
      const record = await push(project, { image: `${options.registry}/${project}`.toLowerCase(), tags: options.tags, flavor: options.flavor });
      results.push({ image: record.pushed.image, digest: record.digest, tags: record.pushed.tags });
    } else {
      results.push({ image: project, tags: [] });
    }
  }
  console.log(summarize(results));
  return results;
}

if (isMain(import.meta.url)) {
  runMain(() => pipeline(parsePipelineArgs(process.argv.slice(2))));
}
