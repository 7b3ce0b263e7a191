// Looks inside built images the way an auditor would: config, file tree with modes, and every byte of every layer.
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Parser } from 'tar';
import { docker, dockerEnv, requireDocker } from '../../lib/docker-engine.mjs';
import { CliError } from '../../lib/errors.mjs';
import { $, describeFailure, retry } from '../../lib/process.mjs';

/** The record tools/docker-build.mjs wrote for a project (the one reader, tools/lib/build-record.mjs). */
export { builtImage } from '../../lib/build-record.mjs';

export async function inspectImage(ref) {
  return JSON.parse(await docker(['image', 'inspect', ref]))[0];
}

/** Streams `docker <args>` stdout into `consume(stream)`; one CliError line (exit 1) if docker fails. */
async function streamDocker(args, consume) {
  const toolchain = await requireDocker();
  const child = $({ env: dockerEnv(toolchain), nothrow: true })`${toolchain.client} ${args}`;
  const [result, output] = await Promise.all([consume(child.stdout), child]);
  if (!output.ok) throw new CliError(describeFailure(output, `docker ${args[0]}`), 1);
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
        files.push({
          path: `/${entry.path.replace(/^\.?\//, '').replace(/\/$/, '')}`,
          type: entry.type,
          mode: entry.mode,
          size: entry.size,
          linkpath: entry.linkpath,
        });
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
  let status = 'starting';
  const settled = async () => {
    const [state, health] = (await docker(['inspect', '--format', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', container])).split(
      ' ',
    );
    status = health || state;
    if (!(status === 'healthy' || status === 'unhealthy' || state === 'exited' || state === 'dead')) throw new Error(`${container} is ${status}`);
  };
  // docker inspect failing (no such container) is an answer as well: stop polling and report it
  let failure;
  await retry(Math.ceil(timeoutMs / 500), '500ms', () =>
    settled().catch((error) => (error instanceof CliError ? (failure = error) : Promise.reject(error))),
  ).catch(() => {});
  if (failure) throw failure;
  return status;
}
