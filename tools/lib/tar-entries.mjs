// Reads chosen entries of a plain (uncompressed) tar file with the `tar` parser, in one pass and in archive order, never
// the whole archive in memory: an image tarball holds layers of hundreds of MB, and push streams them to a registry.
// Backpressure does the bounding: while an entry's consumer has not taken its bytes, the parser stops taking the file's.
import { createReadStream } from 'node:fs';
import { Parser } from 'tar';

/** A tar entry's path as written in the archive's index files (`./blobs/x` and `blobs/x` are the same entry). */
const normalized = (name) => name.replace(/^\.\//, '');

/**
 * Calls `onEntry(path, entry)` for each entry whose (normalized) path `want` accepts, one at a time and in archive
 * order; `entry` is a readable stream with `.size`. The handler must consume it (or not: what it leaves is drained)
 * and resolve before the next chosen entry is handed over. The first error (unreadable file, not a tar archive, a
 * handler's) stops the read and rejects.
 */
export function eachTarEntry(file, want, onEntry) {
  return new Promise((resolve, reject) => {
    const input = createReadStream(file);
    let failed = false;
    const stop = (error) => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(error);
    };
    let chain = Promise.resolve();
    // strict: a truncated or corrupt archive is an error, not a warning and a short read
    const parser = new Parser({
      strict: true,
      onReadEntry(entry) {
        const name = normalized(entry.path);
        if (failed || entry.type !== 'File' || !want(name)) {
          entry.resume();
          return;
        }
        chain = chain
          .then(() => (failed ? undefined : onEntry(name, entry)))
          .then(
            () => entry.resume(),
            (error) => stop(error),
          );
      },
    });
    input.on('error', stop);
    parser.on('error', stop);
    parser.on('end', () => chain.then(() => failed || resolve()));
    input.pipe(parser);
  });
}

/**
 * The bytes of the entries named in `names` (small files: index and manifest JSON), as a Map; an entry larger than
 * `maxBytes` is an error rather than a buffer, so a mix-up with a layer cannot fill memory.
 */
export async function readTarEntries(file, names, { maxBytes = 4 * 1024 * 1024 } = {}) {
  const wanted = new Set(names);
  const found = new Map();
  await eachTarEntry(
    file,
    (name) => wanted.has(name),
    async (name, entry) => {
      if (entry.size > maxBytes) throw new Error(`${name} in ${file} is ${entry.size} bytes, more than the ${maxBytes} expected`);
      const chunks = [];
      for await (const chunk of entry) chunks.push(chunk);
      found.set(name, Buffer.concat(chunks));
    },
  );
  return found;
}
