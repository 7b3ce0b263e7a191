#!/usr/bin/env node
// Puts this machine's Docker Engine on the containerd image store, where buildx's docker driver can export the image
// tarball a build is pushed from: BuildKit's own manifest and layers, with layer times rewritten, so the pushed digest
// is the one a rebuild reproduces (tools/verify-rebuild.mjs). In the classic store the engine's exporter keeps file
// times as built and `docker push` compresses the layers anew. GitHub's hosted runners may run either store, so the
// workflows' build jobs call this first: on a runner already on the containerd store it changes nothing.
//
// It merges "features": {"containerd-snapshotter": true} into daemon.json (every other setting kept), restarts the
// engine with systemctl (sudo when not root) and waits until `docker info` reports the containerd store. Images in the
// classic store stay on disk but out of sight until the feature is turned off again. An engine named by DOCKER_HOST
// (another socket than the system's) is not the one systemd runs: it is left as it is, said in one line, and builds on
// it take the classic store's path (docker-build records that its layers were not rewritten).
//
// Usage: node tools/image-store.mjs [--daemon-json FILE] [--no-restart]
//   --daemon-json  the engine's configuration file (default /etc/docker/daemon.json)
//   --no-restart   only write the file (the engine picks it up at its next start)
import { existsSync, readFileSync } from 'node:fs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { detectDocker, requireDocker } from './lib/docker-engine.mjs';
import { $, retry, stdoutOf } from './lib/process.mjs';

const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';
const FEATURE = 'containerd-snapshotter';
// systemd restarts dockerd in seconds; the containerd store's first start migrates nothing (images stay where they are)
const ENGINE_WAIT = { attempts: 30, delay: '2s' };

/** The daemon.json text with the feature turned on, or null when it already is. Throws one line for a bad file. */
export function withContainerdStore(text, file = 'daemon.json') {
  let config = {};
  if (text.trim()) {
    try {
      config = JSON.parse(text);
    } catch (error) {
      fail(`${file} is not valid JSON (${error.message}): fix it before switching the image store`, 1);
    }
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) fail(`${file} must hold a JSON object`, 1);
  const features = config.features ?? {};
  if (features === null || typeof features !== 'object' || Array.isArray(features)) fail(`${file}: "features" must be an object`, 1);
  if (features[FEATURE] === true) return null;
  return `${JSON.stringify({ ...config, features: { ...features, [FEATURE]: true } }, null, 2)}\n`;
}

const asRoot = () => (process.getuid?.() === 0 ? [] : ['sudo']);

/** Writes `file` as root where needed (tee: a redirect would run in this user's shell). */
async function writeAsRoot(file, text) {
  await stdoutOf($({ input: text, nothrow: true })`${asRoot()} tee ${file}`, `writing ${file}`);
}

const SYSTEM_ENGINE = 'unix:///var/run/docker.sock';

export async function useContainerdStore({ daemonJson = DEFAULT_DAEMON_JSON, restart = true } = {}) {
  if (restart) {
    const { imageStore } = await requireDocker();
    if (imageStore === 'containerd') {
      console.log('image-store: the engine already uses the containerd image store');
      return;
    }
    const host = process.env.DOCKER_HOST;
    if (host && host !== SYSTEM_ENGINE) {
      console.log(`image-store: DOCKER_HOST=${host} is not the system's engine: its ${imageStore} image store is left as it is`);
      return;
    }
  }
  const updated = withContainerdStore(existsSync(daemonJson) ? readFileSync(daemonJson, 'utf8') : '', daemonJson);
  if (updated) {
    await writeAsRoot(daemonJson, updated);
    console.log(`image-store: ${daemonJson}: features.${FEATURE} = true`);
  } else console.log(`image-store: ${daemonJson} already turns the containerd image store on`);
  if (!restart) return;
  await stdoutOf($({ nothrow: true })`${asRoot()} systemctl restart docker`, 'systemctl restart docker');
  const store = await retry(ENGINE_WAIT.attempts, ENGINE_WAIT.delay, async () => {
    const { imageStore } = await detectDocker({ fresh: true });
    if (!imageStore) throw new Error('the engine is not answering yet');
    return imageStore;
  }).catch(() => fail(`the engine did not come back within ${ENGINE_WAIT.attempts * 2} s of the restart`, 1));
  if (store !== 'containerd') fail(`the engine restarted on the ${store} image store: does another configuration override ${daemonJson}?`, 1);
  console.log('image-store: the engine now uses the containerd image store');
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values } = parseCliArgs({ options: { 'daemon-json': { type: 'string' }, 'no-restart': { type: 'boolean' } } });
    await useContainerdStore({ daemonJson: values['daemon-json'] ?? DEFAULT_DAEMON_JSON, restart: !values['no-restart'] });
  });
}
