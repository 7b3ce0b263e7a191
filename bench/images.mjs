#!/usr/bin/env node
// Image benchmark: sizes and rebuild times, each reported as a figure and a ratio against a baseline measured in
// the same run. Goals (issue #3): service image <= 120 MB, <= 5 MB per service above the shared base, a no-change
// `nx affected -t docker-build` builds nothing, a warm rebuild after a one-line change in one service <= 15 s.
//
// Usage: node bench/images.mjs [--skip-rebuild] [--skip-platforms] [--json FILE]
// (--skip-platforms: no amd64/arm64 from-scratch builds, see bench/platforms.mjs)
// Needs the images built (npx nx run-many -t docker-build).
import { unpackedSize } from './image-size.mjs';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { docker } from '../tools/lib/docker-engine.mjs';
import { $ } from '../tools/lib/process.mjs';
import { builtImage } from '../tools/test/support/image-inspection.mjs';
import { runMain } from '../tools/lib/cli.mjs';
import { workspaceRoot } from '../tools/lib/workspace.mjs';
import { listServices } from '../tools/lib/services.mjs';
import { offlineBaseArgs, upstreamRefs } from '../tools/lib/base-images.mjs';
import { BASE_PROJECT, imagePrefix } from '../tools/lib/defaults.cjs';
import { platformBench, printPlatformBench } from './platforms.mjs';

const MB = 1_000_000;
const SERVICES = listServices().map((s) => s.name); // apps/*/project.json tagged type:service
// Published sizes of common Node.js runtime images (not measurable here: nothing can be pulled), for orientation.
const ANCHORS = { 'node:22-slim': 220, 'gcr.io/distroless/nodejs22-debian12': 141, 'cgr.dev/chainguard/node': 145 };

const mb = (bytes) => (bytes / MB).toFixed(1);
const layers = async (ref) => JSON.parse(await docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref]));

async function sizes() {
  const base = builtImage(BASE_PROJECT).tags[0];
  const baseBytes = await unpackedSize(base);
  const baseLayers = await layers(base);
  // Baseline measured in this run: the stock Node.js image the services' build stage uses (debian slim + node + npm).
  const nodeRef = offlineBaseArgs().NODE_IMAGE ?? upstreamRefs().NODE_IMAGE;
  const nodeBytes = await unpackedSize(nodeRef).catch(() => null);
  const rows = [];
  for (const service of SERVICES) {
    const ref = builtImage(service).tags[0];
    const bytes = await unpackedSize(ref);
    const own = await layers(ref);
    const sharesBase = baseLayers.every((layer, i) => own[i] === layer);
    rows.push({ service, bytes, aboveBase: bytes - baseBytes, sharesBase, ratioToNodeImage: nodeBytes ? bytes / nodeBytes : null });
  }
  return { base: { ref: base, bytes: baseBytes }, nodeImage: nodeBytes ? { ref: nodeRef, bytes: nodeBytes } : null, services: rows };
}

// The throwaway copy's images get their own names: its commit (and so its SOURCE_DATE_EPOCH) differs from this
// checkout's, and its builds must not retag the images the size figures are read from.
const copyImagePrefix = `${imagePrefix()}-bench`;

async function nx(cwd, args) {
  const started = performance.now();
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', IMAGE_PREFIX: copyImagePrefix };
  const result = await $({ cwd, env })`npx nx ${args} --outputStyle=static`;
  return { seconds: (performance.now() - started) / 1000, output: result.stdout };
}

/** Rebuild timings in a throwaway copy of the workspace, so the bench never edits the working tree. */
async function rebuilds() {
  const copy = mkdtempSync(path.join(os.tmpdir(), 'bench-rebuild-'));
  try {
    const { stdout } = await $({ cwd: workspaceRoot })`git ls-files`;
    for (const file of stdout.split('\n').filter(Boolean)) cpSync(path.join(workspaceRoot, file), path.join(copy, file), { recursive: true });
    symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(copy, 'node_modules'));
    cpSync(path.join(workspaceRoot, 'dist/docker'), path.join(copy, 'dist/docker'), { recursive: true });
    for (const args of [
      ['init', '-q'],
      ['add', '-A'],
      ['-c', 'user.email=bench@localhost', '-c', 'user.name=bench', 'commit', '-qm', 'bench'],
    ])
      await $({ cwd: copy })`git ${args}`;

    // The real command, against the committed tree with nothing changed: which images does it build?
    const affected = await nx(copy, ['affected', '-t', 'docker-build', '--base=HEAD']);
    const affectedProjects = [...affected.output.matchAll(/^docker-build: ([a-z0-9-]+) built /gm)].map((m) => m[1]);
    // Baseline: everything cached (first run warms Nx and BuildKit in this copy).
    await nx(copy, ['run', 'catalog:docker-build']);
    const unchanged = await nx(copy, ['run', 'catalog:docker-build', '--skip-nx-cache']);
    appendFileSync(path.join(copy, 'apps/catalog/src/main.ts'), `\nexport const benchmarkMarker = '${Date.now()}';\n`);
    // The same command a PR runs, now with the (uncommitted) one-line change: it must build exactly catalog.
    const changed = await nx(copy, ['affected', '-t', 'docker-build', '--base=HEAD']);
    const changedProjects = [...changed.output.matchAll(/^docker-build: ([a-z0-9-]+) built /gm)].map((m) => m[1]);
    const listed = await nx(copy, ['show', 'projects', '--affected', '--withTarget=docker-build', '--base=HEAD']);
    const changedAffected = listed.output
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^[a-z0-9-]+$/.test(l));
    return {
      noChangeAffected: affectedProjects,
      noChangeSeconds: affected.seconds,
      unchangedSeconds: unchanged.seconds,
      oneLineChangeSeconds: changed.seconds,
      oneLineChangeBuilt: changedProjects,
      oneLineChangeAffected: changedAffected,
    };
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

runMain(async () => {
  const { values } = parseArgs({
    options: { 'skip-rebuild': { type: 'boolean' }, 'skip-platforms': { type: 'boolean' }, json: { type: 'string' } },
    strict: true,
  });
  const report = { measuredAt: new Date().toISOString(), ...(await sizes()) };
  console.log(`base image ${report.base.ref}: ${mb(report.base.bytes)} MB`);
  if (report.nodeImage) console.log(`baseline ${report.nodeImage.ref} (measured here): ${mb(report.nodeImage.bytes)} MB`);
  console.log('\nservice        size MB  above base MB  vs node image  goal <=120 MB, <=5 MB above base');
  for (const row of report.services) {
    const verdict = row.bytes <= 120 * MB && row.aboveBase <= 5 * MB && row.sharesBase ? 'ok' : 'MISSED';
    console.log(
      `${row.service.padEnd(14)} ${mb(row.bytes).padStart(7)}  ${mb(row.aboveBase).padStart(13)}  ${row.ratioToNodeImage ? `${(row.ratioToNodeImage * 100).toFixed(0)}%`.padStart(13) : '            -'}  ${verdict}`,
    );
  }
  console.log(
    `\npublished anchors (not measured here): ${Object.entries(ANCHORS)
      .map(([ref, size]) => `${ref} ${size} MB`)
      .join(', ')}`,
  );
  if (!values['skip-rebuild']) {
    report.rebuild = await rebuilds();
    const r = report.rebuild;
    console.log(
      `\nno-change 'nx affected -t docker-build': built ${r.noChangeAffected.length} image(s) in ${r.noChangeSeconds.toFixed(1)} s ${r.noChangeAffected.length === 0 ? '(goal: 0, ok)' : `(goal: 0, MISSED: ${r.noChangeAffected.join(', ')})`}`,
    );
    console.log(`catalog docker-build, nothing changed (baseline): ${r.unchangedSeconds.toFixed(1)} s`);
    const exact = r.oneLineChangeAffected.join() === 'catalog';
    console.log(
      `'nx affected -t docker-build' after a one-line change in catalog: affected ${r.oneLineChangeAffected.join(', ')} (goal: exactly catalog, ${exact ? 'ok' : 'MISSED'});`,
    );
    console.log(
      `  ran ${r.oneLineChangeBuilt.join(', ')} (the base as catalog's dependency task: a BuildKit cache hit) in ${r.oneLineChangeSeconds.toFixed(1)} s, ${(r.oneLineChangeSeconds / r.unchangedSeconds).toFixed(1)}x the no-change rebuild (goal <= 15 s: ${r.oneLineChangeSeconds <= 15 ? 'ok' : 'MISSED'})`,
    );
  }
  if (!values['skip-platforms']) {
    report.platforms = await platformBench();
    printPlatformBench(report.platforms, mb);
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
});
