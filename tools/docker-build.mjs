#!/usr/bin/env node
// Builds one Nx project's image and records what was built in dist/docker/<project>.json, which later steps
// (scan, push, tests, benchmarks) read instead of guessing names.
//
// Usage: node tools/docker-build.mjs <project> [--image REPO] [--tag REF]... [--tags RULES] [--flavor F] [--labels L]
//          [--secret id=ID,src=FILE|id=ID,env=VAR]... [--build-arg K=V]... [--platform P] [--cache-from S]...
//          [--cache-to S]... [--network MODE] [--no-cache] [--push] [--attest] [--record FILE] [--log FILE] [--dry-run]
//   --platform P  one platform builds for that architecture on this one (cross-built, no emulation); an architecture
//                 other than the engine's gets tags suffixed -<arch> and its record in dist/docker/<project>.<arch>.json
//   --log FILE  the complete BuildKit log (plain progress), as BuildKit wrote it: for audits and the secret canary
// The build's log streams live, each line prefixed with the project and redacted; a failure ends with one line.
// Where an upstream base image cannot be pulled and no offline stand-in is recorded, the build stops before BuildKit
// with one line naming `npm run bases`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BASE_DOCKERFILE, BASE_PROJECT, imageRepository, SERVICE_DOCKERFILE } from './lib/defaults.cjs';
import { debianSuite, hostArch, offlineBaseArgs, requireUpstreamImages, upstreamRefs } from './lib/base-images.mjs';
import { foreignRecordPath, readRecord, recordPath, writeRecord } from './lib/build-record.mjs';
import { builderDriver, dockerEnv, exportsThroughEngine, requireDocker } from './lib/docker-engine.mjs';
import { fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { workspaceRoot } from './lib/workspace.mjs';
import { releaseSnapshot } from './lib/debian/archive.mjs';
import { nodeVersion } from './lib/node-version.mjs';
import { imageMetadata } from './lib/image-metadata.mjs';
import { $, lastLine, streamLines } from './lib/process.mjs';
import { serviceFacts } from './lib/services.mjs';
import { parseSecretSpec, redact, rememberSecretValues } from './lib/secrets.mjs';
import { debianPackages as debianClosure, readImageTarball } from './lib/rebuild/tarball.mjs';
import { BASE_REVISION_LABEL, buildInputs, DEBIAN_SNAPSHOT_LABEL, debianSnapshotId, REVISION_LABEL, sourceDateEpoch } from './lib/reproducible.mjs';

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
  'no-cache': { type: 'boolean' },
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
  const project = projectArgument(positionals, 'node tools/docker-build.mjs catalog');
  return { project, ...values, buildArgs: parseBuildArgs(values['build-arg']), secrets: (values.secret ?? []).map(parseSecretSpec) };
}

/**
 * The platform a build targets: `--platform` (one platform) or the engine's own. A build for another architecture than
 * the engine's gets its tags suffixed `-<arch>` and its record in dist/docker/<project>.<arch>.json, because the
 * engine's image store holds one architecture per tag: the native image and the foreign one live side by side.
 */
export async function targetPlatform(toolchain, platformOption) {
  const native = toolchain.serverPlatform ?? (await enginePlatform(toolchain));
  const platform = platformOption?.includes(',') ? null : (platformOption ?? native);
  if (platform && !/^linux\/(amd64|arm64)$/.test(platform)) fail(`unsupported platform '${platform}' (linux/amd64 or linux/arm64)`);
  const arch = platform?.split('/')[1] ?? null;
  return { platform, arch, foreign: Boolean(platform && platform !== native) };
}

async function enginePlatform(toolchain) {
  const engine = await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} version --format ${'{{.Server.Os}}/{{.Server.Arch}}'}`;
  return engine.ok && engine.stdout.trim() ? engine.stdout.trim() : `linux/${hostArch()}`;
}

/** The record file of a project's image for one architecture (the engine's own architecture keeps the plain name). */
const targetRecordPath = (project, target) => (target?.foreign ? foreignRecordPath(project, target.arch) : recordPath(project));
/** The build's image tarball, kept beside its record (dist/docker/<project>[.<os>-<arch>].tar): what push uploads. */
const tarballPath = (recordFile) => `${recordFile.replace(/\.json$/, '')}.tar`;

/** Where a project's image recipe lives and which build args it always needs. */
function recipeFor(project, buildArgs, target) {
  // The one Node.js version (.node-version) goes to both Dockerfiles; an explicit --build-arg still wins.
  const common = { NODE_VERSION: nodeVersion() };
  if (project === BASE_PROJECT)
    return {
      dockerfile: BASE_DOCKERFILE,
      upstream: ['DEBIAN_IMAGE', 'NODE_IMAGE'],
      args: { ...common, ...offlineBaseArgs(target.arch ?? undefined), ...buildArgs },
    };
  return serviceRecipe(project, buildArgs, target, common);
}

function serviceRecipe(project, buildArgs, target, common) {
  let service;
  try {
    service = serviceFacts(project);
  } catch (error) {
    fail(error.message);
  }
  if (!service) fail(`unknown service project '${project}' (no apps/<dir>/project.json named so and tagged type:service)`);
  // The PORT the image listens on and its healthcheck probes: the service's metadata.port in its project.json.
  const projectArgs = { PORT: String(service.port) };
  const artifact = path.join(workspaceRoot, 'dist/apps', project, 'main.js');
  if (!existsSync(artifact))
    fail(`no build output at dist/apps/${project}/main.js: run 'npx nx build ${project}' (or build through 'npx nx run ${project}:docker-build')`);
  // The deps stage runs npm on the build platform: the build platform's node image.
  const { NODE_IMAGE } = offlineBaseArgs();
  // Services build FROM the base image this workspace just built for the same architecture, never a stale or guessed tag.
  const baseRecord = targetRecordPath(BASE_PROJECT, target);
  const baseBuilt = existsSync(baseRecord) ? readRecord(baseRecord) : undefined;
  const base = baseBuilt?.tags[0];
  if (target.foreign && !base && !buildArgs.BASE_IMAGE)
    fail(
      `no ${target.arch} base image recorded (${path.relative(workspaceRoot, baseRecord)}): build it first with node tools/docker-build.mjs ${BASE_PROJECT} --platform ${target.platform}`,
    );
  return {
    dockerfile: SERVICE_DOCKERFILE,
    upstream: ['NODE_IMAGE'],
    // the commit the base was built from, when it is this workspace's build (a replay rebuilds the base from it)
    baseRevision: buildArgs.BASE_IMAGE ? undefined : baseBuilt?.labels?.[REVISION_LABEL],
    args: { ...common, ...(NODE_IMAGE ? { NODE_IMAGE } : {}), ...(base ? { BASE_IMAGE: base } : {}), PROJECT: project, ...projectArgs, ...buildArgs },
  };
}

/**
 * PACKAGES_SNAPSHOT for a base build, unless given: the mirror's current state (lib/debian/archive.mjs), so the
 * package download layer is rebuilt from the mirror whenever it has published something since the cached build.
 */
async function packagesSnapshot(args, { snapshotLabelGiven }) {
  // PACKAGES_SNAPSHOT given (refresh.yml passes the freshness tool's id; empty means "work it out") and the label too
  if (args.PACKAGES_SNAPSHOT && snapshotLabelGiven) return { args };
  const suite = debianSuite(args.DEBIAN_IMAGE ?? upstreamRefs().DEBIAN_IMAGE);
  const { snapshot, reason, dates } = await releaseSnapshot(suite, {
    mirror: process.env.DEBIAN_MIRROR || undefined,
    securityMirror: process.env.DEBIAN_SECURITY_MIRROR || undefined,
  });
  if (!snapshot) {
    console.log(`docker-build: cannot read the mirror's state (${reason}): the package layer may come from the build cache`);
    return { args };
  }
  // and the archive state the packages come from, as a snapshot.debian.org timestamp: a replay's default (verify-rebuild)
  return { args: { ...args, PACKAGES_SNAPSHOT: args.PACKAGES_SNAPSHOT || snapshot }, debianSnapshot: debianSnapshotId(dates) };
}

/** The extra CA bundle a build needs to reach the npm registry (e.g. behind a TLS-inspecting proxy), as a secret. */
function implicitSecrets(secrets) {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  if (ca && existsSync(ca) && !secrets.some((s) => s.id === 'npm_ca')) return [{ id: 'npm_ca', src: ca }];
  return [];
}

/** `--secret` flags; an env secret whose variable is empty is left out with one line (fork PRs get no secrets). */
function secretFlags(secrets) {
  const flags = [];
  for (const secret of secrets) {
    if (secret.env !== undefined) {
      if (!process.env[secret.env]) {
        console.log(`docker-build: secret '${secret.id}' not passed: environment variable ${secret.env} is empty (expected on fork PRs)`);
        continue;
      }
      flags.push('--secret', `id=${secret.id},env=${secret.env}`);
    } else {
      if (!existsSync(secret.src)) fail(`secret '${secret.id}': file not found: ${secret.src}`);
      flags.push('--secret', `id=${secret.id},src=${secret.src}`);
    }
  }
  return flags;
}

export async function dockerBuild(options) {
  const { project } = options;
  const toolchain = options['dry-run'] ? { client: 'docker', serverPlatform: `linux/${hostArch()}` } : await requireDocker();
  const target = await targetPlatform(toolchain, options.platform);
  const recipe = recipeFor(project, options.buildArgs, target);
  const labelGiven = (name) => String(options.labels ?? '').includes(`${name}=`);
  let debianSnapshot;
  if (project === BASE_PROJECT && !options['dry-run'])
    ({ args: recipe.args, debianSnapshot } = await packagesSnapshot(recipe.args, { snapshotLabelGiven: labelGiven(DEBIAN_SNAPSHOT_LABEL) }));
  const image = options.image?.toLowerCase() ?? imageRepository(project);
  // SOURCE_DATE_EPOCH = the commit time (or as given): BuildKit stamps config and history with it and rewrites every
  // newer file time in the layers to it, so a rebuild of the commit elsewhere, later, gives the same bytes.
  const epoch = recipe.args.SOURCE_DATE_EPOCH ?? (await sourceDateEpoch());
  if (epoch) recipe.args.SOURCE_DATE_EPOCH = epoch;
  const meta = await imageMetadata({ project, image, tags: options.tags, flavor: options.flavor, labels: options.labels });
  // Inputs a replay needs that the image would not otherwise say (lib/reproducible.mjs); explicit --labels win.
  if (debianSnapshot && !labelGiven(DEBIAN_SNAPSHOT_LABEL)) meta.labels[DEBIAN_SNAPSHOT_LABEL] = debianSnapshot;
  if (recipe.baseRevision && !labelGiven(BASE_REVISION_LABEL)) meta.labels[BASE_REVISION_LABEL] = recipe.baseRevision;
  const suffix = target.foreign ? `-${target.arch}` : '';
  const tags = [...new Set([...meta.tags, ...(options.tag ?? [])])].map((tag) => `${tag}${suffix}`);
  const platforms = options.platform?.split(',').filter(Boolean) ?? [];
  if (project !== BASE_PROJECT && !options.buildArgs.BASE_IMAGE && !options['dry-run']) await requireLocalImageBuilder(toolchain);
  // On a classic image store the engine's exporter loads the image: not reproducible, said once, recorded (below).
  const engineExport = !options['dry-run'] && !options.push && platforms.length <= 1 && (await exportsThroughEngine(toolchain));
  if (!options['dry-run']) await requireUpstreamImages(toolchain, recipe.args, recipe.upstream);

  const file = options.record ? path.resolve(options.record) : targetRecordPath(project, target);
  const keptTarball = tarballPath(file);
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'docker-build-'));
  try {
    const iidFile = path.join(tempDir, 'iid');
    const metadataFile = path.join(tempDir, 'metadata.json');
    const args = ['buildx', 'build', '--progress=plain', '--file', recipe.dockerfile, '--iidfile', iidFile, '--metadata-file', metadataFile];
    for (const [key, value] of Object.entries(recipe.args)) args.push('--build-arg', `${key}=${value}`);
    for (const [key, value] of Object.entries(meta.labels)) args.push('--label', `${key}=${value}`);
    for (const tag of tags) args.push('--tag', tag);
    const secrets = [...options.secrets, ...implicitSecrets(options.secrets)];
    rememberSecretValues(secrets);
    args.push(...secretFlags(secrets));
    if (options.platform) args.push('--platform', options.platform);
    for (const source of options['cache-from'] ?? []) args.push('--cache-from', source);
    for (const target of options['cache-to'] ?? []) args.push('--cache-to', target);
    if (options.network) args.push('--network', options.network);
    if (options['no-cache']) args.push('--no-cache');
    // Attestations only when asked: buildx adds a provenance manifest by default where the store can hold one (the
    // containerd store), which turns the loaded image into an index, so its ID and pushed digest would no longer be
    // the platform image's. The workflows attest the pushed digest themselves (cosign, attest-build-provenance).
    args.push(...(options.attest ? ['--sbom=true', '--provenance=mode=max'] : ['--provenance=false', '--sbom=false']));
    // A local load goes through a docker-format tarball, then `docker load`: the engine's own image exporter cannot
    // rewrite layer timestamps in the containerd store ("rewrite-timestamp conflicts with unpack", BuildKit 0.13),
    // the tarball exporter can in both stores, and loading keeps its manifest digest. The tarball is kept beside the
    // record: tools/push.mjs uploads exactly its bytes (a classic store's `docker push` would recompress the layers).
    // It is written under a temporary name in the same folder, renamed once the build succeeded.
    const tarball = `${keptTarball}.partial`;
    const rewrite = epoch ? ',rewrite-timestamp=true' : '';
    args.push(options.push ? '--push' : platforms.length > 1 || engineExport ? '--output=type=image' : `--output=type=docker,dest=${tarball}${rewrite}`);
    args.push('.');

    if (options['dry-run']) {
      console.log(redact([toolchain.client, ...args].join(' ')));
      return null;
    }
    // an earlier build's tarball is not this build's: gone, whatever this build writes
    rmSync(keptTarball, { force: true });
    mkdirSync(path.dirname(keptTarball), { recursive: true });
    console.log(`docker-build: ${project} -> ${tags.join(', ')}`);
    if (engineExport)
      console.log(
        `docker-build: ${project}: the classic image store: the engine loads the image with its build-time file times (not reproducible; push uses docker push): node tools/image-store.mjs moves the engine to the containerd image store`,
      );
    const build = await streamLines($({ cwd: workspaceRoot, env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} ${args}`, {
      prefix: `[${project}] `,
    });
    // the whole log, unredacted, as BuildKit wrote it (a private file: the secret canary test searches it)
    if (options.log) writeFileSync(options.log, build.stdall, { mode: 0o600 });
    if (!build.ok) {
      const reason =
        build.stderr
          .split('\n')
          .reverse()
          .find((line) => /error:/i.test(line))
          ?.trim() ??
        (lastLine(build) || `exit ${build.exitCode}`);
      fail(`building ${project} failed: ${redact(reason)}`, 1);
    }
    // buildx's image ID is the config digest in both image stores: the image's identity wherever it is stored or
    // pushed (a registry manifest names it as config.digest). The engine's own ID for it differs by store (the config
    // digest in the classic store, the manifest digest in the containerd store); local commands use that one.
    const configDigest = readFileSync(iidFile, 'utf8').trim();
    let digest;
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8'));
    let debianPackages;
    if (existsSync(tarball)) {
      const manifestDigest = metadata['containerimage.digest'];
      // A rebuild with nothing changed gives this very image again (the build is reproducible): what was read from
      // it last time, and the image the engine already holds under every tag, need not be read or loaded again.
      const before = previousBuild(file, manifestDigest);
      // the exact Debian closure this platform's base unpacked, for the record (a replay pins it: DEBIAN_PACKAGES)
      if (project === BASE_PROJECT) debianPackages = before?.inputs?.debianPackages ?? (await debianClosure((await readImageTarball(tarball)).layers));
      const engineId = toolchain.imageStore === 'containerd' ? manifestDigest : configDigest;
      if (!(await engineHolds(toolchain, tags, engineId))) {
        const loaded = await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} load --quiet --input ${tarball}`;
        if (!loaded.ok) fail(`built ${project} but docker load failed: ${lastLine(loaded)}`, 1);
      }
      renameSync(tarball, keptTarball);
    }
    if (options.push) digest = metadata['containerimage.digest'];
    const imageId = options.push || platforms.length > 1 ? configDigest : await localImageId(toolchain, tags[0]);
    const record = {
      project,
      image,
      tags,
      imageId,
      configDigest,
      imageStore: toolchain.imageStore,
      labels: meta.labels,
      version: meta.version,
      dockerfile: recipe.dockerfile,
      // one platform per record; a multi-platform push (buildx) records the list it pushed
      platform: target.platform ?? options.platform,
      nodeVersion: recipe.args.NODE_VERSION,
      // the platform manifest's digest as BuildKit wrote it: what a registry holds after tools/push.mjs (it uploads
      // the tarball below), and what verify-rebuild compares. A build the engine loaded (the classic store's path) has
      // no such manifest: exporter 'engine' says so, and push falls back to docker push.
      ...(engineExport ? { exporter: 'engine' } : { manifestDigest: metadata['containerimage.digest'] }),
      // BuildKit's bytes of that manifest, its config and layers (relative to the record's folder): what push uploads
      ...(existsSync(keptTarball) ? { tarball: path.basename(keptTarball) } : {}),
      inputs: buildInputs(recipe.args, meta.labels, debianPackages),
      ...(digest ? { digest } : {}),
    };
    writeRecord(file, record);
    console.log(`docker-build: ${project} built ${imageId}${digest ? ` pushed ${digest}` : ''} (${path.relative(workspaceRoot, file)})`);
    return record;
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
    rmSync(`${keptTarball}.partial`, { force: true });
  }
}

/** The record `file` held before this build, when it was of the image with `manifestDigest`; else null. */
function previousBuild(file, manifestDigest) {
  try {
    const before = existsSync(file) ? readRecord(file) : null;
    return before?.manifestDigest === manifestDigest ? before : null;
  } catch {
    return null; // an unreadable earlier record is simply not reused
  }
}

/** Whether every tag already names the image whose engine ID is `engineId` (one inspect; a missing tag is a no). */
async function engineHolds(toolchain, tags, engineId) {
  const inspected = await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} image inspect --format {{.Id}} ${tags}`;
  return (
    inspected.ok &&
    inspected.stdout
      .trim()
      .split('\n')
      .every((id) => id.trim() === engineId)
  );
}

/** The engine's own ID of a just-loaded image: `docker image inspect .Id` (store-dependent, see the record). */
async function localImageId(toolchain, ref) {
  const inspected = await $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} image inspect --format {{.Id}} ${ref}`;
  if (!inspected.ok) fail(`built ${ref} but the engine does not list it: ${lastLine(inspected)}`, 1);
  return inspected.stdout.trim();
}

/**
 * A service builds FROM the base image in the local image store; only buildx's `docker` driver sees that store.
 * With another driver (docker-container, kubernetes, remote) the FROM would be looked up in a registry instead.
 */
async function requireLocalImageBuilder(toolchain) {
  const driver = await builderDriver(toolchain);
  if (driver && driver !== 'docker') {
    fail(
      `the current buildx builder uses the '${driver}' driver, which cannot see the local base image: run 'docker buildx use default', or pass --build-arg BASE_IMAGE=<a pushed base image>`,
    );
  }
}

if (isMain(import.meta.url)) {
  runMain(() => dockerBuild(parseCli(process.argv.slice(2))));
}
