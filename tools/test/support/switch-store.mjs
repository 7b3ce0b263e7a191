#!/usr/bin/env node
// Restarts the engine with the other image store (classic <-> containerd) for the second pass of the image-identity
// tests, carrying the offline base stand-ins over (docker save, then load: no second debootstrap).
// The restart itself is the command in SECURE_CI_SWITCH_STORE, called with the store's name (.ci/run sets it to
// `.ci/docker-engine start`); tests cannot restart a user's engine by themselves.
// Usage: node tools/test/support/switch-store.mjs classic|containerd|other|back
//   back: to the store the last `other` switched away from (nothing when it did not switch).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readBases } from '../../lib/base-images.mjs';
import { fail, runMain } from '../../lib/cli.mjs';
import { detectDocker, requireDocker } from '../../lib/docker-engine.mjs';
import { $, streamLines } from '../../lib/process.mjs';
import { workspaceRoot } from '../../lib/workspace.mjs';

const STORES = ['classic', 'containerd'];
const ORIGIN = path.join(workspaceRoot, 'tmp/switch-store.origin');

runMain(async () => {
  const switchCommand = process.env.SECURE_CI_SWITCH_STORE;
  if (!switchCommand) fail('SECURE_CI_SWITCH_STORE is not set: it names the command that restarts the engine with a given image store');
  const current = (await requireDocker()).imageStore;
  const asked = process.argv[2];
  let wanted = asked;
  if (asked === 'other') wanted = STORES.find((s) => s !== current);
  if (asked === 'back') {
    if (!existsSync(ORIGIN)) return console.log('switch-store: nothing to switch back');
    wanted = readFileSync(ORIGIN, 'utf8').trim();
    rmSync(ORIGIN);
  }
  if (!STORES.includes(wanted)) fail(`say which image store: ${STORES.join(', ')}, other or back`);
  if (wanted === current) return console.log(`switch-store: already on the ${current} image store`);
  if (asked === 'other') {
    mkdirSync(path.dirname(ORIGIN), { recursive: true });
    writeFileSync(ORIGIN, current);
  }

  const bases = readBases();
  const standIns = [...new Set([...Object.values(bases.offline ?? {}), ...Object.values(bases.targets ?? {}).map((t) => t.NODE_IMAGE)])];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switch-store-'));
  const archive = path.join(dir, 'stand-ins.tar');
  try {
    if (standIns.length) await $`docker save -o ${archive} ${standIns}`;
    const restarted = await streamLines($({ nothrow: true })`${switchCommand.split(' ')} ${wanted}`);
    if (!restarted.ok) fail(`'${switchCommand} ${wanted}' failed (exit ${restarted.exitCode})`);
    const toolchain = await detectDocker({ fresh: true });
    if (toolchain.imageStore !== wanted) fail(`the engine came back with the ${toolchain.imageStore} image store, not ${wanted}`);
    if (existsSync(archive)) await $`docker load -q -i ${archive}`;
    console.log(`switch-store: ${current} -> ${wanted}${standIns.length ? ` (stand-ins carried over: ${standIns.join(', ')})` : ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
