#!/usr/bin/env node
// Readies the second engine for the `stores` suite (tools/test.mjs): the engine at SECURE_CI_OTHER_ENGINE (a
// DOCKER_HOST) must answer and keep its images in the other image store than the default engine's; the offline base
// stand-ins are carried over from the default engine (docker save, then load: no second debootstrap).
// Tests cannot start a user's second engine; .ci/run starts one (.ci/docker-engine start classic) and sets the variable.
import { readBases } from '../../lib/base-images.mjs';
import { fail, runMain } from '../../lib/cli.mjs';
import { imageStoreOf, requireDocker } from '../../lib/docker-engine.mjs';
import { $ } from '../../lib/process.mjs';

runMain(async () => {
  const other = process.env.SECURE_CI_OTHER_ENGINE;
  if (!other) fail('SECURE_CI_OTHER_ENGINE is not set: it is the DOCKER_HOST of an engine with the other image store');
  const here = (await requireDocker()).imageStore;
  const probe = await $({ nothrow: true, env: { ...process.env, DOCKER_HOST: other } })`docker info --format ${'{{json .DriverStatus}}'}`;
  if (!probe.ok) fail(`no engine answers at SECURE_CI_OTHER_ENGINE=${other}`);
  const there = imageStoreOf(probe.stdout);
  if (there === here) fail(`the engine at ${other} uses the ${there} image store too: the stores suite needs the other one`);

  const bases = readBases();
  const standIns = [...new Set([...Object.values(bases.offline ?? {}), ...Object.values(bases.targets ?? {}).map((t) => t.NODE_IMAGE)])];
  if (standIns.length) await $`docker save ${standIns}`.pipe($({ env: { ...process.env, DOCKER_HOST: other } })`docker load -q`);
  console.log(`other-store: ${here} here, ${there} at ${other}${standIns.length ? `; stand-ins carried over: ${standIns.join(', ')}` : ''}`);
});
