#!/usr/bin/env node
// Builds one Nx project's image and records what was built in dist/docker/<project>.json, which later steps
// (scan, push, tests, benchmarks) read instead of guessing names.
//
// Usage: node tools/docker-build.mjs <project> [--image REPO] [--tag REF]... [--tags RULES] [--flavor F] [--labels L]
//          [--secret id=ID,src=FILE|id=ID,env=VAR]... [--build-arg K=V]... [--platform P] [--cache-from S]...
//          [--cache-to S]... [--network MODE] [--push] [--attest] [--record FILE] [--log FILE] [--dry-run]
//   --log FILE  the complete BuildKit log (plain progress), as BuildKit wrote it: for audits and the secret canary
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from './lib/exec.mjs';
import { dockerEnv, requireDocker } from './lib/docker-engine.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { workspaceRoot } from './lib/workspace.mjs';
import { offlineBaseArgs, parseNodeRef, upstreamRefs } from './bases.mjs';
import { dockerfileArgDefaults } from './lib/dockerfile-args.mjs';
import { imageMetadata } from './lib/image-metadata.mjs';
import { BASE_PROJECT } from './lib/nx-affected.mjs';
import { parseSecretSpec, redact, rememberSecretValues } from './lib/secrets.mjs';

export const recordFile = (project) => path.join(workspaceRoot, 'dist/docker', `${project}.json`);

const OPTIONS = {
  image: { type: 'string' },
  tag: { type: 'string', multiple: true },
  tags: { type: 'string' },
  flavor: { type: 'string' },
  labels: { type: 'string' },
  secret: { type: 'string', multiple: true },
  'build-arg': { type: 'string', multiple: true },
  platform: { type: 'string' },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string', multiple: true },
  network: { type: 'string' },
  push: { type: 'boolean' },
  attest: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  record: { type: 'string' },
  log: { type: 'string' },
};

/** `--build-arg K=V` values (repeatable) as an object; a value without `=` is a usage error. */
export function parseBuildArgs(pairs = []) {
  const buildArgs = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) fail(`--build-arg expects KEY=VALUE, got '${pair}'`);
    buildArgs[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return buildArgs;
}

export function parseCli(argv) {
  const { values, positionals } = parseCliArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  if (positionals.length !== 1) fail('expected exactly one project name, e.g. node tools/docker-build.mjs catalog');
  const [project] = positionals;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(project)) fail(`invalid project name '${project}'`);
  return { project, ...values, buildArgs: parseBuildArgs(values['build-arg']), secrets: (values.secret ?? []).map(parseSecretSpec) };
}

/**
 * The base image records its Node.js version in an SBOM document (scanners cannot detect the runtime otherwise). When
 * the Dockerfile declares no NODE_VERSION default, it is read from the NODE_IMAGE ref the build uses, so the version
 * is still written down once (in that ref).
 */
function withNodeVersion(args) {
  if (args.NODE_VERSION || dockerfileArgDefaults(path.join(workspaceRoot, 'docker/base/Dockerfile')).NODE_VERSION) return args;
  return { ...args, NODE_VERSION: parseNodeRef(args.NODE_IMAGE ?? upstreamRefs().NODE_IMAGE).nodeVersion };
}

/** Where a project's image recipe lives and which build args it always needs. */
function recipeFor(project, buildArgs) {
  if (project === BASE_PROJECT) return { dockerfile: 'docker/base/Dockerfile', args: withNodeVersion({ ...offlineBaseArgs(), ...buildArgs }) };
  const projectFile = path.join(workspaceRoot, 'apps', project, 'project.json');
  if (!existsSync(projectFile)) fail(`unknown service project '${project}' (no apps/${project}/project.json)`);
  // Per-service image settings (e.g. the PORT the healthcheck probes) live in the project's own project.json.
  const projectArgs = JSON.parse(readFileSync(projectFile, 'utf8')).metadata?.image?.buildArgs ?? {};
  const artifact = path.join(workspaceRoot, 'dist/apps', project, 'main.js');
  if (!existsSync(artifact)) fail(`no build output at dist/apps/${project}/main.js: run 'npx nx build ${project}' (or build through 'npx nx run ${project}:docker-build')`);
  const { NODE_IMAGE } = offlineBaseArgs();
  // Services build FROM the base image this workspace just built, never from a stale or guessed tag.
  const base = existsSync(recordFile(BASE_PROJECT)) ? JSON.parse(readFileSync(recordFile(BASE_PROJECT), 'utf8')).tags?.[0] : undefined;
  return {
    dockerfile: 'docker/service/Dockerfile',
    args: { ...(NODE_IMAGE ? { NODE_IMAGE } : {}), ...(base ? { BASE_IMAGE: base } : {}), PROJECT: project, ...projectArgs, ...buildArgs },
  };
}

/** The extra CA bundle a build needs to reach the npm registry (e.g. behind a TLS-inspecting proxy), as a secret. */
function implicitSecrets(secrets) {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (ca && existsSync(ca) && !secrets.some((s) => s.id === 'npm_ca')) return [{ id: 'npm_ca', src: ca }];
  return [];
}

/**
 * Resolves secrets to what the client can take. buildx reads env= itself; the pre-23 client only takes files, so an
 * env secret is written to a private temporary file (0600) that is removed right after the build.
 */
function secretFlags(secrets, buildMode, tempDir) {
  const flags = [];
  for (const secret of secrets) {
    if (secret.env !== undefined) {
      const value = process.env[secret.env];
      if (!value) {
        console.log(`docker-build: secret '${secret.id}' not passed: environment variable ${secret.env} is empty (expected on fork PRs)`);
        continue;
      }
      if (buildMode === 'buildx') flags.push('--secret', `id=${secret.id},env=${secret.env}`);
      else {
        const file = path.join(tempDir, `${secret.id}.secret`);
        writeFileSync(file, value, { mode: 0o600 });
        flags.push('--secret', `id=${secret.id},src=${file}`);
      }
    } else {
      if (!existsSync(secret.src)) fail(`secret '${secret.id}': file not found: ${secret.src}`);
      flags.push('--secret', `id=${secret.id},src=${secret.src}`);
    }
  }
  return flags;
}

export async function dockerBuild(options) {
  const { project } = options;
  const toolchain = options['dry-run'] ? { client: 'docker', buildMode: 'buildx' } : await requireDocker();
  const recipe = recipeFor(project, options.buildArgs);
  const image = (options.image ?? `${process.env.IMAGE_PREFIX || 'secure-ci'}/${project}`).toLowerCase();
  const meta = await imageMetadata({ project, image, tags: options.tags, flavor: options.flavor, labels: options.labels });
  const tags = [...new Set([...meta.tags, ...(options.tag ?? [])])];
  const platforms = options.platform?.split(',').filter(Boolean) ?? [];
  const buildx = toolchain.buildMode === 'buildx';
  if (!buildx) {
    if (options['cache-to']?.length) fail('--cache-to needs docker buildx (the built-in BuildKit of this client cannot export caches)');
    if (platforms.length > 1) fail('multi-platform builds need docker buildx');
    if (options.attest) fail('--attest (SBOM and provenance) needs docker buildx');
  }
  if (buildx && project !== BASE_PROJECT && !options.buildArgs.BASE_IMAGE && !options['dry-run']) await requireLocalImageBuilder(toolchain);

  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'docker-build-'));
  try {
    const iidFile = path.join(tempDir, 'iid');
    const metadataFile = path.join(tempDir, 'metadata.json');
    const args = [...(buildx ? ['buildx', 'build'] : ['build']), '--progress=plain', '--file', recipe.dockerfile, '--iidfile', iidFile];
    if (buildx) args.push('--metadata-file', metadataFile);
    for (const [key, value] of Object.entries(recipe.args)) args.push('--build-arg', `${key}=${value}`);
    for (const [key, value] of Object.entries(meta.labels)) args.push('--label', `${key}=${value}`);
    for (const tag of tags) args.push('--tag', tag);
      const secrets = [...options.secrets, ...implicitSecrets(options.secrets)];
    rememberSecretValues(secrets);
    args.push(...secretFlags(secrets, toolchain.buildMode, tempDir));
    if (options.platform) args.push('--platform', options.platform);
    for (const source of options['cache-from'] ?? []) args.push('--cache-from', source);
    for (const target of options['cache-to'] ?? []) args.push('--cache-to', target);
    if (options.network) args.push('--network', options.network);
    if (options.attest) args.push('--sbom=true', '--provenance=mode=max');
    if (buildx) args.push(options.push ? '--push' : platforms.length > 1 ? '--output=type=image' : '--load');
    args.push('.');

    if (options['dry-run']) {
      console.log(redact([toolchain.client, ...args].join(' ')));
      return null;
    }
    console.log(`docker-build: ${project} -> ${tags.join(', ')}`);
    const build = await execa(toolchain.client, args, { cwd: workspaceRoot, env: dockerEnv(toolchain), reject: false, stdio: 'pipe' });
    if (options.log) writeFileSync(options.log, `${build.stdout}${build.stderr}`, { mode: 0o600 });
    if (build.exitCode !== 0) {
      process.stderr.write(redact(build.stderr.split('\n').slice(-40).join('\n')) + '\n');
      const reason = build.stderr.split('\n').reverse().find((line) => /error:/i.test(line)) ?? `exit ${build.exitCode}`;
      fail(`building ${project} failed: ${redact(reason.trim())}`, 1);
    }
    const imageId = readFileSync(iidFile, 'utf8').trim();
    let digest;
    if (options.push) digest = buildx ? JSON.parse(readFileSync(metadataFile, 'utf8'))['containerimage.digest'] : await pushTags(toolchain, tags);
    const record = { project, image, tags, imageId, labels: meta.labels, version: meta.version, dockerfile: recipe.dockerfile, ...(digest ? { digest } : {}) };
    const recordPath = options.record ? path.resolve(options.record) : recordFile(project);
    mkdirSync(path.dirname(recordPath), { recursive: true });
    writeFileSync(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`docker-build: ${project} built ${imageId}${digest ? ` pushed ${digest}` : ''} (${path.relative(workspaceRoot, recordPath)})`);
    return record;
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * A service builds FROM the base image in the local image store; only buildx's `docker` driver sees that store.
 * With another driver (docker-container, kubernetes, remote) the FROM would be looked up in a registry instead.
 */
async function requireLocalImageBuilder(toolchain) {
  const { stdout } = await execa(toolchain.client, ['buildx', 'inspect'], { env: dockerEnv(toolchain), reject: false });
  const driver = /^Driver:\s*(\S+)/m.exec(stdout)?.[1];
  if (driver && driver !== 'docker') {
    fail(`the current buildx builder uses the '${driver}' driver, which cannot see the local base image: run 'docker buildx use default', or pass --build-arg BASE_IMAGE=<a pushed base image>`);
  }
}

/** Pushes every tag with the plain client and returns the registry digest they share. */
async function pushTags(toolchain, tags) {
  let digest;
  for (const tag of tags) {
    const { stdout } = await execa(toolchain.client, ['push', tag], { env: dockerEnv(toolchain) });
    digest = /digest: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1] ?? digest;
  }
  return digest;
}

if (isMain(import.meta.url)) {
  runMain(() => dockerBuild(parseCli(process.argv.slice(2))));
}
