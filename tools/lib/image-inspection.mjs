// Looks inside built images the way an auditor would: config, file tree with modes, and every byte of every layer.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser } from 'tar';
import { detectDocker, docker, dockerEnv } from './docker-engine.mjs';
import { workspaceRoot } from './workspace.mjs';

/** The record tools/docker-build.mjs wrote for a project; a clear error when the image was never built. */
export function builtImage(project) {
  const file = path.join(workspaceRoot, 'dist/docker', `${project}.json`);
  if (!existsSync(file)) throw new Error(`no dist/docker/${project}.json: build the images first (npx nx run-many -t docker-build)`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

export async function inspectImage(ref) {
  return JSON.parse(await docker(['image', 'inspect', ref]))[0];
}

/** Streams `docker <args>` stdout into `consume(stream)`; rejects if docker fails. */
async function streamDocker(args, consume) {
  const toolchain = await detectDocker();
  const child = spawn(toolchain.client, args, { env: dockerEnv(toolchain), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('close', resolve));
  const result = await consume(child.stdout);
  const code = await exited;
  if (code !== 0) throw new Error(`docker ${args[0]} failed: ${stderr.trim().split('\n').pop()}`);
  return result;
}

function listTar(stream, onEntry) {
  return new Promise((resolve, reject) => {
    const parser = new Parser({ onReadEntry: onEntry });
    parser.on('end', resolve);
    parser.on('error', reject);
    stream.pipe(parser);
  });
}

/** Every path in the image's filesystem with its type and mode (from `docker export` of a created container). */
export async function imageFiles(ref) {
  const container = await docker(['create', ref]);
  try {
    const files = [];
    await streamDocker(['export', container], (stream) =>
      listTar(stream, (entry) => {
        files.push({ path: `/${entry.path.replace(/^\.?\//, '').replace(/\/$/, '')}`, type: entry.type, mode: entry.mode, size: entry.size, linkpath: entry.linkpath });
        entry.resume();
      }),
    );
    return files;
  } finally {
    await docker(['rm', '-f', container], { reject: false });
  }
}

/** Counts occurrences of `needle` in a byte stream, across chunk boundaries. */
function countInStream(stream, needle) {
  const pattern = Buffer.from(needle);
  return new Promise((resolve, reject) => {
    let count = 0;
    let carry = Buffer.alloc(0);
    stream.on('data', (chunk) => {
      const buffer = Buffer.concat([carry, chunk]);
      for (let at = buffer.indexOf(pattern); at !== -1; at = buffer.indexOf(pattern, at + 1)) count++;
      // keep the last bytes so a match split across chunks is found, without counting a whole match twice
      carry = buffer.subarray(Math.max(0, buffer.length - (pattern.length - 1)));
    });
    stream.on('end', () => resolve(count));
    stream.on('error', reject);
  });
}

/**
 * Searches every entry of `docker save` (each layer tar, gunzipped where compressed; the image config; the manifest)
 * for `needle`. Returns { entries: number, hits: { [entryName]: count } }.
 */
export async function searchSavedImage(ref, needle) {
  const hits = {};
  const searches = [];
  await streamDocker(['save', ref], (stream) =>
    listTar(stream, (entry) => {
      if (entry.type !== 'File') return entry.resume();
      // Layers may be stored compressed (containerd image store): search the uncompressed bytes.
      const body = new PassThrough();
      let sniffed = false;
      entry.on('data', (chunk) => {
        if (!sniffed) {
          sniffed = true;
          const gzipped = chunk[0] === 0x1f && chunk[1] === 0x8b;
          searches.push(countInStream(gzipped ? body.pipe(createGunzip()) : body, needle).then((count) => count && (hits[entry.path] = count)));
        }
        body.write(chunk);
      });
      entry.on('end', () => body.end());
    }),
  );
  await Promise.all(searches);
  return { entries: searches.length, hits };
}

/** Waits for Docker's own health status of a container; returns the final status ('healthy', 'unhealthy', ...). */
export async function waitForHealth(container, { timeoutMs = 90_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let status = 'starting';
  while (Date.now() < deadline) {
    const result = await docker(['inspect', '--format', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', container]);
    const [state, health] = result.split(' ');
    status = health || state;
    if (status === 'healthy' || status === 'unhealthy' || state === 'exited' || state === 'dead') return status;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return status;
}
