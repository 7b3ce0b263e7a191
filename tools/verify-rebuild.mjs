#!/usr/bin/env node
// Rebuilds a published image from the commit it names and says whether the result is the same, bit for bit.
//
// Usage: node tools/verify-rebuild.mjs <registry>/<name>@sha256:<digest>... [--platform P]... [--debian-snapshot TS]
//          [--mirror] [--cache] [--keep]
// For each image (index or single manifest) and each of its platforms: the inputs are read from the image itself — the
// commit and its time (labels revision and created), the Node.js version (NODE_VERSION), the exact Debian packages
// (its dpkg records, per architecture) and the archive state they came from (label io.secure-ci.debian.snapshot) —
// that commit is checked out in a temporary worktree, the base and then the service are rebuilt with those inputs
// (`--no-cache` unless --cache), and the platform manifest digests are compared. Prints `reproduced <ref>` per image,
// or the first difference (config fields, then the first differing layer's paths), and exits 0 only when every
// platform of every image is identical. Exit 1: not reproduced or a step failed; 2: bad input.
//   --debian-snapshot TS  read Debian from snapshot.debian.org at TS (default: the image's label)
//   --mirror              use the build environment's configured mirror instead of snapshot.debian.org (the exact
//                         versions are still pinned: they must still be on it)
//   --cache               allow BuildKit's cache for every build (the default rebuilds every step)
//   --warm-base           allow it for the base only: services are still rebuilt from scratch
//   --network MODE        the builds' RUN network (docker-build --network), e.g. host where the bridge has no DNS
//   --keep                keep the checkouts and rebuilt images (printed)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BASE_PROJECT } from './lib/defaults.cjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { dockerEnv, exportsThroughEngine, requireDocker } from './lib/docker-engine.mjs';
import { $, lastLine, streamLines } from './lib/process.mjs';
import { readRecord } from './lib/build-record.mjs';
import { nodeVersion, nodeVersionFileIn } from './lib/node-version.mjs';
import { BASE_REVISION_LABEL, CREATED_LABEL, DEBIAN_SNAPSHOT_LABEL, REVISION_LABEL } from './lib/reproducible.mjs';
import { debianPackages, parseDigestRef, publishedImage, savedImage } from './lib/rebuild/images.mjs';
import { buildArtifact, checkout, resolveCommit } from './lib/rebuild/worktree.mjs';
import { describeDifferences, diffConfigs, diffEntries, firstDifferingLayer, layerEntries } from './lib/rebuild/layers.mjs';

const TITLE_LABEL = 'org.opencontainers.image.title';

export function parseCli(argv) {
  const { values, positionals } = parseCliArgs({
    args: argv,
    options: {
      platform: { type: 'string', multiple: true },
      'debian-snapshot': { type: 'string' },
      mirror: { type: 'boolean' },
      cache: { type: 'boolean' },
      'warm-base': { type: 'boolean' },
      keep: { type: 'boolean' },
      network: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (!positionals.length) fail('usage: node tools/verify-rebuild.mjs <registry>/<name>@sha256:<digest>... [--platform P] [--mirror] [--cache]');
  for (const ref of positionals) parseDigestRef(ref);
  const snapshot = values['debian-snapshot'];
  if (snapshot && !/^\d{8}T\d{6}Z$/.test(snapshot)) fail(`--debian-snapshot '${snapshot}' is not YYYYMMDDTHHMMSSZ`);
  if (snapshot && values.mirror) fail('--debian-snapshot and --mirror exclude each other');
  return { refs: positionals, ...values };
}

const epochOf = (created) => {
  const ms = Date.parse(created ?? '');
  if (!Number.isFinite(ms)) fail(`the image has no usable ${CREATED_LABEL} label ('${created ?? ''}'): its build time cannot be replayed`, 1);
  return String(Math.floor(ms / 1000));
};
const labelLines = (labels) => Object.entries(labels).map(([key, value]) => `${key}=${value}`);

/** One docker-build in the checkout, with the commit's own tool; returns its record. */
async function rebuild(run, checkoutDir, project, platform, { labels, epoch, buildArgs }) {
  const record = path.join(run.recordsDir, `${project}.${platform.replaceAll('/', '-')}.${run.builds++}.json`);
  const args = [project, '--platform', platform, '--image', `${run.imagePrefix}/${project}`, '--record', record, '--labels', labelLines(labels).join('\n')];
  for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`);
  if (run.network) args.push('--network', run.network);
  if (!(run.cache || (run.warmBase && project === BASE_PROJECT))) args.push('--no-cache');
  const env = { ...dockerEnv(run.toolchain), NX_DAEMON: 'false' };
  delete env.SOURCE_DATE_EPOCH;
  if (epoch) env.SOURCE_DATE_EPOCH = epoch;
  const built = await streamLines($({ cwd: checkoutDir, env, nothrow: true })`node tools/docker-build.mjs ${args}`, { prefix: '  ' });
  if (!built.ok) fail(`rebuilding ${project} for ${platform} failed: ${lastLine(built)}`, 1);
  return readRecord(record);
}

/** The checkout of a commit, made once per run. */
async function checkoutOf(run, revision) {
  const commit = await resolveCommit(revision);
  if (!run.checkouts.has(commit)) {
    console.log(`verify-rebuild: checking out ${commit.slice(0, 12)}`);
    run.checkouts.set(commit, { ...(await checkout(commit)), built: new Set() });
  }
  return run.checkouts.get(commit);
}

/** Rebuilds one published platform; returns {digest, record}. */
async function rebuildPlatform(run, published, target, layers) {
  const labels = target.config.config?.Labels ?? {};
  const project = labels[TITLE_LABEL];
  if (!project) fail(`${published.ref}: no ${TITLE_LABEL} label: not an image of this repository`, 1);
  await resolveCommit(labels[REVISION_LABEL]); // before anything is downloaded or built: a foreign commit is one line
  const epoch = epochOf(labels[CREATED_LABEL]);
  const packages = await debianPackages(layers);
  if (!packages.length) fail(`${published.ref} (${target.platform}): no dpkg records in the image: its Debian packages cannot be replayed`, 1);
  const snapshot = run.mirror ? undefined : (run.debianSnapshot ?? labels[DEBIAN_SNAPSHOT_LABEL]);
  if (!run.mirror && !snapshot) fail(`${published.ref}: no ${DEBIAN_SNAPSHOT_LABEL} label: pass --debian-snapshot TS (or --mirror)`, 2);
  const baseArgs = { DEBIAN_PACKAGES: packages.join(' '), PACKAGES_SNAPSHOT: 'replay', ...(snapshot ? { DEBIAN_SNAPSHOT: snapshot } : {}) };
  const nodeVersion = (target.config.config?.Env ?? []).find((e) => e.startsWith('NODE_VERSION='))?.slice('NODE_VERSION='.length);

  const baseRevision = labels[BASE_REVISION_LABEL] ?? labels[REVISION_LABEL];
  const baseCheckout = await checkoutOf(run, project === BASE_PROJECT ? labels[REVISION_LABEL] : baseRevision);
  checkNodeVersion(baseCheckout.dir, nodeVersion);
  // The base as the image was built on it: its own labels when it is the base, else the service's (which override
  // every label the base sets, so they do not reach the service image; layers and history do).
  const baseKey = `${baseCheckout.dir} ${target.platform} ${packages.join(' ')}`;
  let base = run.bases.get(baseKey);
  if (!base || project === BASE_PROJECT) {
    console.log(
      `verify-rebuild: rebuilding ${BASE_PROJECT} for ${target.platform} (${packages.length} Debian packages pinned${snapshot ? `, snapshot ${snapshot}` : ', configured mirror'})`,
    );
    base = await rebuild(run, baseCheckout.dir, BASE_PROJECT, target.platform, {
      labels,
      // the base's own clock: its created label, or under a service its commit's time (what docker-build takes then)
      epoch: project === BASE_PROJECT ? epoch : null,
      buildArgs: baseArgs,
    });
    run.bases.set(baseKey, base);
  }
  if (project === BASE_PROJECT) return base;
  const serviceCheckout = await checkoutOf(run, labels[REVISION_LABEL]);
  if (!serviceCheckout.built.has(project)) {
    await buildArtifact(serviceCheckout.dir, project);
    serviceCheckout.built.add(project);
  }
  console.log(`verify-rebuild: rebuilding ${project} for ${target.platform}`);
  return rebuild(run, serviceCheckout.dir, project, target.platform, { labels, epoch, buildArgs: { BASE_IMAGE: base.tags[0] } });
}

/** The commit's docker-build passes its own .node-version: it must be the version the image declares. */
function checkNodeVersion(dir, expected) {
  const wanted = nodeVersion(nodeVersionFileIn(dir));
  if (expected && expected !== wanted) fail(`the image runs Node.js ${expected} but its commit's .node-version says ${wanted}`, 1);
}

/** Compares one platform; prints the verdict and the first difference; returns true when identical. */
async function compare(run, published, target, layers, record) {
  const rebuilt = record.manifestDigest;
  if (rebuilt === target.digest) {
    console.log(`verify-rebuild: ${target.platform} reproduced ${target.digest}`);
    return true;
  }
  console.log(`verify-rebuild: ${target.platform} NOT reproduced: published ${target.digest}, rebuilt ${rebuilt ?? 'unknown'}`);
  const saved = await savedImage(run.toolchain, record.tags[0], dockerEnv(run.toolchain));
  const configDifferences = diffConfigs(target.config, saved.config);
  const index = firstDifferingLayer(target.config, saved.config);
  let layer = null;
  let entryDifferences = [];
  if (index >= 0) {
    layer = { index, published: target.config.rootfs.diff_ids[index], rebuilt: saved.config.rootfs.diff_ids[index] };
    const a = layers[index] ? await layerEntries(layers[index]) : new Map();
    const b = saved.layers[index] ? await layerEntries(saved.layers[index]) : new Map();
    entryDifferences = diffEntries(a, b);
  }
  for (const line of describeDifferences({ configDifferences, layer, entryDifferences })) console.log(line);
  if (!configDifferences.length && index < 0)
    console.log('  config and every layer are identical: only the manifest differs (layer compression or media types)');
  return false;
}

export async function verifyRebuild(options) {
  const toolchain = await requireDocker();
  // a rebuild the engine loads keeps its build-time file times: it could never reproduce anything
  if (await exportsThroughEngine(toolchain))
    fail(
      "this engine keeps images in the classic image store, where buildx's docker driver cannot export BuildKit's own image: move it to the containerd image store (node tools/image-store.mjs) and verify again",
    );
  const run = {
    toolchain,
    cache: Boolean(options.cache),
    warmBase: Boolean(options['warm-base']),
    network: options.network,
    mirror: Boolean(options.mirror),
    debianSnapshot: options['debian-snapshot'],
    imagePrefix: `verify-rebuild-${process.pid}`,
    recordsDir: mkdtempSync(path.join(os.tmpdir(), 'verify-rebuild-records-')),
    builds: 0,
    checkouts: new Map(),
    bases: new Map(),
  };
  let reproduced = true;
  try {
    for (const ref of options.refs) {
      const published = await publishedImage(ref);
      const targets = published.platforms.filter((p) => !options.platform?.length || options.platform.includes(p.platform));
      if (!targets.length) fail(`${ref} has none of the platforms ${options.platform.join(', ')}`);
      let same = true;
      for (const target of targets) {
        const layers = [];
        for (const layer of target.manifest.layers) layers.push(await published.blob(layer.digest));
        const record = await rebuildPlatform(run, published, target, layers);
        same = (await compare(run, published, target, layers, record)) && same;
      }
      console.log(same ? `reproduced ${ref}` : `NOT reproduced ${ref}`);
      reproduced &&= same;
    }
  } finally {
    await cleanUp(run, options.keep);
  }
  if (!reproduced) fail('the rebuild differs from the published image (above: the first difference)', 1);
}

async function cleanUp(run, keep) {
  if (keep) {
    for (const [commit, { dir }] of run.checkouts) console.log(`verify-rebuild: kept ${commit.slice(0, 12)} at ${dir}, images ${run.imagePrefix}/*`);
    return;
  }
  for (const { remove } of run.checkouts.values()) await remove();
  const env = dockerEnv(run.toolchain);
  const listed = await $({ env, nothrow: true })`${run.toolchain.client} image ls --format {{.Repository}}:{{.Tag}} ${`${run.imagePrefix}/*`}`;
  const refs = listed.stdout.split('\n').filter(Boolean);
  if (refs.length) await $({ env, nothrow: true })`${run.toolchain.client} image rm ${refs}`;
  rmSync(run.recordsDir, { recursive: true, force: true });
}

if (isMain(import.meta.url)) {
  runMain(() => verifyRebuild(parseCli(process.argv.slice(2))));
}
