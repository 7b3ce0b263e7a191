// Test support: images for the other architecture (arm64 on an amd64 machine) are BUILT with the qemu binfmt handler
// switched off, which proves that no RUN of a build is emulated, and then RUN with it switched on (qemu-user-static,
// registered by .ci/run). The handler is machine-global: it is off only while the builds run, and always restored.
// Suites run side by side (tools/test.mjs), and the PR rehearsal's base job runs these tests too, so one process could
// switch the handler off while another runs a foreign container ("exec format error", seen in a full run). A lock held
// across processes orders them: switching off holds it, and so does every stretch of foreign containers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { workspaceRoot } from '../../../../tools/lib/workspace.mjs';
import { dockerBuild } from '../../../../tools/test/support/run-tool.mjs';

const HOST = { x64: 'amd64', arm64: 'arm64' }[process.arch];
/** The architecture this machine emulates, and the binfmt_misc handler that does it. */
export const FOREIGN =
  HOST === 'arm64' ? { arch: 'amd64', platform: 'linux/amd64', handler: 'qemu-x86_64' } : { arch: 'arm64', platform: 'linux/arm64', handler: 'qemu-aarch64' };
const handlerFile = `/proc/sys/fs/binfmt_misc/${FOREIGN.handler}`;

/** Whether the handler is switched on now (it exists: see requireEmulation). */
export const emulationEnabled = () => /^enabled/.test(readFileSync(handlerFile, 'utf8'));

/** Fails with the fix when foreign images cannot be run here (the tests never skip). */
export function requireEmulation() {
  if (!existsSync(handlerFile)) {
    throw new Error(
      `no binfmt_misc handler ${FOREIGN.handler}: install qemu-user-static and register it (bash .ci/run does: mount binfmt_misc, write /usr/lib/binfmt.d/${FOREIGN.handler}.conf to /proc/sys/fs/binfmt_misc/register)`,
    );
  }
  if (!emulationEnabled()) throw new Error(`the binfmt_misc handler ${FOREIGN.handler} is disabled: echo 1 > ${handlerFile}`);
}

// One per machine, as the handler is (not per checkout: the tests' clones and workspace copies share it).
const handlerLock = path.join(os.tmpdir(), `secure-ci-binfmt-${FOREIGN.handler}`);
// A holder refreshes the lock every 5 s; one not refreshed for 30 s was killed. Waiting: up to 20 min (an off window
// is a few cross-builds, a stretch of foreign containers a minute or two).
const LOCK_OPTIONS = { realpath: false, stale: 30_000, update: 5_000, retries: { retries: 600, factor: 1, minTimeout: 2_000 } };

/** Takes the machine-wide lock on the handler; returns its release. */
async function lockHandler() {
  try {
    return await lockfile.lock(handlerLock, LOCK_OPTIONS);
  } catch (error) {
    throw new Error(`the binfmt_misc handler ${FOREIGN.handler} stayed locked by another test process (${handlerLock}.lock): ${error.message}`);
  }
}

/** Keeps the handler on (no other process may switch it off) until the returned release is called. */
export async function holdEmulation() {
  const release = await lockHandler();
  try {
    requireEmulation();
  } catch (error) {
    await release();
    throw error;
  }
  return release;
}

/** Runs `fn` with the emulation handler switched off (holding it, so no other process runs foreign containers meanwhile);
 * switches it back on whatever happens. */
export async function withoutEmulation(fn) {
  const release = await holdEmulation();
  writeFileSync(handlerFile, '0');
  try {
    return await fn();
  } finally {
    writeFileSync(handlerFile, '1');
    await release();
  }
}

/** Builds `project` for the foreign architecture through docker-build; returns the record it wrote. */
export async function buildForeign(project, extraArgs = []) {
  await dockerBuild([project, '--platform', FOREIGN.platform, ...extraArgs], { what: `building ${project} for ${FOREIGN.platform} without emulation` });
  return JSON.parse(readFileSync(path.join(workspaceRoot, 'dist/docker', `${project}.${FOREIGN.arch}.json`), 'utf8'));
}
