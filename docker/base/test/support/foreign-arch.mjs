// Test support: images for the other architecture (arm64 on an amd64 machine) are BUILT with the qemu binfmt handler
// switched off, which proves that no RUN of a build is emulated, and then RUN with it switched on (qemu-user-static,
// registered by .ci/run). The handler is machine-global: it is off only while the builds run, and always restored.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workspaceRoot } from '../../../../tools/lib/workspace.mjs';
import { dockerBuild } from '../../../../tools/test/support/run-tool.mjs';

const HOST = { x64: 'amd64', arm64: 'arm64' }[process.arch];
/** The architecture this machine emulates, and the binfmt_misc handler that does it. */
export const FOREIGN =
  HOST === 'arm64' ? { arch: 'amd64', platform: 'linux/amd64', handler: 'qemu-x86_64' } : { arch: 'arm64', platform: 'linux/arm64', handler: 'qemu-aarch64' };
const handlerFile = `/proc/sys/fs/binfmt_misc/${FOREIGN.handler}`;

/** Fails with the fix when foreign images cannot be run here (the tests never skip). */
export function requireEmulation() {
  if (!existsSync(handlerFile)) {
    throw new Error(
      `no binfmt_misc handler ${FOREIGN.handler}: install qemu-user-static and register it (bash .ci/run does: mount binfmt_misc, write /usr/lib/binfmt.d/${FOREIGN.handler}.conf to /proc/sys/fs/binfmt_misc/register)`,
    );
  }
  if (!/^enabled/.test(readFileSync(handlerFile, 'utf8'))) throw new Error(`the binfmt_misc handler ${FOREIGN.handler} is disabled: echo 1 > ${handlerFile}`);
}

/** Runs `fn` with the emulation handler switched off; switches it back on whatever happens. */
export async function withoutEmulation(fn) {
  requireEmulation();
  writeFileSync(handlerFile, '0');
  try {
    return await fn();
  } finally {
    writeFileSync(handlerFile, '1');
  }
}

/** Builds `project` for the foreign architecture through docker-build; returns the record it wrote. */
export async function buildForeign(project, extraArgs = []) {
  await dockerBuild([project, '--platform', FOREIGN.platform, ...extraArgs], { what: `building ${project} for ${FOREIGN.platform} without emulation` });
  return JSON.parse(readFileSync(path.join(workspaceRoot, 'dist/docker', `${project}.${FOREIGN.arch}.json`), 'utf8'));
}
