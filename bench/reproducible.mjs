#!/usr/bin/env node
// What reproducible builds cost: the base and catalog built from a cold builder cache (--no-cache, linux/amd64) at a
// commit before the change and at HEAD, in the same run, each in its own throwaway checkout: build time, image size
// (uncompressed, as the engine reports it) and the digest. The after side builds twice, in two checkouts, and says
// whether the digests are identical (the before side cannot be: its layer times are the wall clock).
//
// Usage: node bench/reproducible.mjs [--before REF] [--network MODE] [--json FILE]
//   (default --before: the merge-base with main; --network: docker-build's, e.g. host where the bridge has no DNS)
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { docker } from '../tools/lib/docker-engine.mjs';
import { runMain } from '../tools/lib/cli.mjs';
import { $ } from '../tools/lib/process.mjs';
import { workspaceRoot } from '../tools/lib/workspace.mjs';
import { buildArtifact, checkout } from '../tools/lib/rebuild/worktree.mjs';

const MB = 1_000_000;
const PROJECTS = ['base-image', 'catalog'];
let network = [];

async function side(label, commit, run) {
  const tree = await checkout(commit);
  try {
    await buildArtifact(tree.dir, 'catalog');
    const rows = {};
    for (const project of PROJECTS) {
      const image = `bench-repro-${process.pid}-${run}/${project}`;
      const args = [project, '--no-cache', '--image', image, '--platform', 'linux/amd64', ...network];
      if (project !== 'base-image') args.push('--build-arg', `BASE_IMAGE=bench-repro-${process.pid}-${run}/base-image:local`);
      const started = performance.now();
      const built = await $({ cwd: tree.dir, nothrow: true, env: { ...process.env, NX_DAEMON: 'false' } })`node tools/docker-build.mjs ${args}`;
      const seconds = (performance.now() - started) / 1000;
      if (!built.ok) throw new Error(`${label}: building ${project} failed: ${built.stderr.trim().split('\n').pop()}`);
      const ref = `${image}:local`;
      const bytes = Number(await docker(['image', 'inspect', '--format', '{{.Size}}', ref]));
      const id = await docker(['image', 'inspect', '--format', '{{.Id}}', ref]);
      rows[project] = { seconds: Number(seconds.toFixed(1)), mb: Number((bytes / MB).toFixed(1)), id };
      console.log(`bench: ${label} ${project}: ${seconds.toFixed(1)} s, ${(bytes / MB).toFixed(1)} MB, ${id}`);
    }
    return rows;
  } finally {
    await tree.remove();
    const listed = await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `bench-repro-${process.pid}-${run}/*`], { reject: false });
    const tags = listed.stdout.split('\n').filter(Boolean);
    if (tags.length) await docker(['image', 'rm', ...tags], { reject: false });
  }
}

runMain(async () => {
  const { values } = parseArgs({ options: { before: { type: 'string' }, json: { type: 'string' }, network: { type: 'string' } } });
  network = values.network ? ['--network', values.network] : [];
  const git = async (...args) => (await $({ cwd: workspaceRoot })`git ${args}`).stdout.trim();
  const before = await git('rev-parse', values.before ?? (await git('merge-base', 'HEAD', 'main')));
  const after = await git('rev-parse', 'HEAD');
  const result = { before: { commit: before }, after: { commit: after } };
  result.before.builds = await side('before', before, 'b');
  result.after.builds = await side('after', after, 'a1');
  result.after.again = await side('after (second checkout)', after, 'a2');
  result.after.identical = PROJECTS.every((p) => result.after.builds[p].id === result.after.again[p].id);
  console.log('\n| side | base cold | catalog cold | base size | catalog size |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, rows] of [
    [`before (${before.slice(0, 7)})`, result.before.builds],
    [`after (${after.slice(0, 7)})`, result.after.builds],
    ['after, second checkout', result.after.again],
  ])
    console.log(`| ${name} | ${rows['base-image'].seconds} s | ${rows.catalog.seconds} s | ${rows['base-image'].mb} MB | ${rows.catalog.mb} MB |`);
  console.log(`\nafter: the two checkouts' digests are ${result.after.identical ? 'identical' : 'DIFFERENT'}`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
});
