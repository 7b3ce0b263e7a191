// Which images a compose stack runs, and getting them built through Nx (which also builds what they depend on:
// the service bundles and the shared base image). Unchanged builds are cheap: Nx caches the bundles and BuildKit
// the image layers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { basesPresent } from '../base-images.mjs';
import { localImage } from '../defaults.cjs';
import { workspaceRoot } from '../workspace.mjs';
import { runTee } from './compose.mjs';

/**
 * Services of a resolved compose config whose image the workspace's docker-build targets produce
 * (<IMAGE_PREFIX>/<project>:local for apps/<project>, defaults.cjs); with IMAGE_PREFIX/IMAGE_TAG pointing elsewhere there is none.
 */
export function buildableServices(config) {
  return Object.entries(config.services ?? {})
    .filter(([name, service]) => service.image === localImage(name) && existsSync(path.join(workspaceRoot, 'apps', name, 'project.json')))
    .map(([name]) => name);
}

/** Builds the images of `projects` through Nx; returns the exit code (output goes to the terminal). */
export async function buildImages(stack, projects, { log = console.log } = {}) {
  const env = { ...stack.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false' };
  // tools/bases.mjs runs only when neither the stand-ins it recorded nor the upstream images are present: it then
  // pulls them, or bootstraps offline equivalents.
  if (!(await basesPresent(stack.toolchain))) {
    log('base images missing: node tools/bases.mjs (pulls them, or bootstraps offline equivalents)');
    const bases = await runTee(process.execPath, [path.join(workspaceRoot, 'tools/bases.mjs')], { env, cwd: workspaceRoot });
    if (bases.exitCode !== 0) return { exitCode: bases.exitCode, step: 'node tools/bases.mjs' };
  }
  const args = ['nx', 'run-many', '-t', 'docker-build', `--projects=${projects.join(',')}`, '--outputStyle=static'];
  log(`building images through Nx: npx ${args.join(' ')}`);
  const result = await runTee('npx', args, { env, cwd: workspaceRoot });
  return { exitCode: result.exitCode, step: `npx ${args.slice(0, 4).join(' ')}` };
}
