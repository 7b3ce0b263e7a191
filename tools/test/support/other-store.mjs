#!/usr/bin/env node
// The `stores` suite (tools/test.mjs): the tests whose assertions depend on what an image ID or digest is, which the
// image store changes, run again on a second engine with the other store (classic <-> containerd):
//   - the pipeline round trip (build records, push by digest, the per-platform gate, registry-side tags, pull back);
//   - the PR and publish rehearsals (pr.yml's plan/base/image jobs, publish.yml's plan);
//   - publish.yml's sign job (real cosign signs and attests the handed-over digests).
// The engine at SECURE_CI_OTHER_ENGINE (a DOCKER_HOST) must answer and use the other store than the default engine's;
// the offline base stand-ins are carried over from the default engine (docker save, then load: no second
// debootstrap). The tests run in a copy of the workspace (tools/test/support/workspace-copy.mjs), so the suite can
// run beside the images and e2e suites, whose tests write this checkout's dist/docker records.
// Tests cannot start a user's second engine; .ci/run starts one (.ci/docker-engine start classic) and sets the variable.
import { rmSync } from 'node:fs';
import { readBases } from '../../lib/base-images.mjs';
import { fail, runMain } from '../../lib/cli.mjs';
import { imageStoreOf, requireDocker } from '../../lib/docker-engine.mjs';
import { $ } from '../../lib/process.mjs';
import { copyWorkspace } from './workspace-copy.mjs';

const IDENTITY_TESTS = ['tools/test/e2e/pipeline.test.mjs', 'tools/test/e2e/rehearsal.test.mjs', 'tools/test/e2e/signing.test.mjs'];

/** Checks the second engine and loads the stand-ins into it; returns both stores' names. */
async function readyOtherEngine(other) {
  const here = (await requireDocker()).imageStore;
  const probe = await $({ nothrow: true, env: { ...process.env, DOCKER_HOST: other } })`docker info --format ${'{{json .DriverStatus}}'}`;
  if (!probe.ok) fail(`no engine answers at SECURE_CI_OTHER_ENGINE=${other}`);
  const there = imageStoreOf(probe.stdout);
  if (there === here) fail(`the engine at ${other} uses the ${there} image store too: the stores suite needs the other one`);
  const bases = readBases();
  // every stand-in: build platform, each target architecture, each Debian suite (the base tests build bookworm too)
  const standIns = [
    ...new Set([bases.offline, ...Object.values(bases.targets ?? {}), ...Object.values(bases.suites ?? {})].flatMap((refs) => Object.values(refs ?? {}))),
  ];
  if (standIns.length) await $`docker save ${standIns}`.pipe($({ env: { ...process.env, DOCKER_HOST: other } })`docker load -q`);
  console.log(`other-store: ${here} here, ${there} at ${other}${standIns.length ? `; stand-ins carried over: ${standIns.join(', ')}` : ''}`);
}

runMain(async () => {
  const other = process.env.SECURE_CI_OTHER_ENGINE;
  if (!other) fail('SECURE_CI_OTHER_ENGINE is not set: it is the DOCKER_HOST of an engine with the other image store');
  await readyOtherEngine(other);
  const { dir } = copyWorkspace('stores-ws-');
  console.log(`other-store: the tests run in ${dir} (a copy of this working tree)`);
  try {
    const tests = $({
      cwd: dir,
      nothrow: true,
      stdio: 'inherit',
      env: { ...process.env, DOCKER_HOST: other },
    })`${process.execPath} --test --test-concurrency=1 ${IDENTITY_TESTS}`;
    const { exitCode } = await tests;
    process.exitCode = exitCode ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
