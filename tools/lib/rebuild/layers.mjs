// What is inside two images, and where they first differ, in the manner of diffoci: the config field by field, then
// the first layer whose uncompressed digest (rootfs.diff_ids) differs, entry by entry (name, type, size, mode, owner,
// mtime, link target, content hash). Layers are read from bytes (a registry blob or a `docker save` file), gzip or not.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Parser } from 'tar';

/**
 * The entries of one layer tarball: path -> {type, size, mode, uid, gid, mtime, linkpath, sha256}, plus `content`
 * for the paths `keep` accepts.
 */
export async function layerEntries(bytes, { keep = () => false } = {}) {
  const tarBytes = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const entries = new Map();
  const parser = new Parser({
    onReadEntry: (entry) => {
      const hash = createHash('sha256');
      const name = entry.path.replace(/^\.?\//, '');
      const chunks = keep(name) ? [] : null;
      entry.on('data', (chunk) => {
        hash.update(chunk);
        chunks?.push(chunk);
      });
      entry.on('end', () =>
        entries.set(name, {
          type: entry.type,
          size: entry.size,
          mode: (entry.mode & 0o7777).toString(8).padStart(4, '0'),
          uid: entry.uid,
          gid: entry.gid,
          mtime: entry.mtime ? new Date(entry.mtime).toISOString() : null,
          linkpath: entry.linkpath || null,
          sha256: entry.type === 'File' || entry.type === 'OldFile' ? hash.digest('hex') : null,
          ...(chunks ? { content: Buffer.concat(chunks) } : {}),
        }),
      );
    },
  });
  await new Promise((resolve, reject) => {
    parser.on('end', resolve).on('error', reject);
    parser.end(tarBytes);
  });
  return entries;
}

const ENTRY_FIELDS = ['type', 'size', 'mode', 'uid', 'gid', 'mtime', 'linkpath', 'sha256'];

/** Differing paths of two layers: [{path, field, published, rebuilt}] (a missing entry is field 'present'). */
export function diffEntries(published, rebuilt) {
  const differences = [];
  for (const name of [...new Set([...published.keys(), ...rebuilt.keys()])].sort()) {
    const a = published.get(name);
    const b = rebuilt.get(name);
    if (!a || !b) {
      differences.push({ path: name, field: 'present', published: Boolean(a), rebuilt: Boolean(b) });
      continue;
    }
    for (const field of ENTRY_FIELDS) if (a[field] !== b[field]) differences.push({ path: name, field, published: a[field], rebuilt: b[field] });
  }
  return differences;
}

/** Top-level config fields that differ (history and rootfs compared entry by entry). */
export function diffConfigs(published, rebuilt) {
  const differences = [];
  const fields = new Set([...Object.keys(published), ...Object.keys(rebuilt)]);
  for (const field of [...fields].filter((f) => f !== 'rootfs' && f !== 'history' && f !== 'config')) {
    if (JSON.stringify(published[field]) !== JSON.stringify(rebuilt[field])) differences.push({ field, published: published[field], rebuilt: rebuilt[field] });
  }
  for (const key of new Set([...Object.keys(published.config ?? {}), ...Object.keys(rebuilt.config ?? {})])) {
    const a = JSON.stringify(published.config?.[key]);
    const b = JSON.stringify(rebuilt.config?.[key]);
    if (a !== b) differences.push({ field: `config.${key}`, published: published.config?.[key], rebuilt: rebuilt.config?.[key] });
  }
  const history = Math.max(published.history?.length ?? 0, rebuilt.history?.length ?? 0);
  for (let i = 0; i < history; i++) {
    if (JSON.stringify(published.history?.[i]) !== JSON.stringify(rebuilt.history?.[i]))
      differences.push({ field: `history[${i}]`, published: published.history?.[i], rebuilt: rebuilt.history?.[i] });
  }
  return differences;
}

/** Index of the first layer whose uncompressed digest differs, or -1 when all are the same. */
export function firstDifferingLayer(published, rebuilt) {
  const a = published.rootfs?.diff_ids ?? [];
  const b = rebuilt.rootfs?.diff_ids ?? [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/** The lines a mismatch prints: config fields, then the first differing layer's paths (at most `limit`). */
export function describeDifferences({ configDifferences, layer, entryDifferences, limit = 20 }) {
  const lines = configDifferences.map((d) => `  config ${d.field}: published ${show(d.published)}, rebuilt ${show(d.rebuilt)}`);
  if (layer) {
    lines.push(`  layer ${layer.index + 1} differs: published ${layer.published ?? 'none'}, rebuilt ${layer.rebuilt ?? 'none'}`);
    for (const d of entryDifferences.slice(0, limit)) lines.push(`    ${d.path}: ${d.field} published ${show(d.published)}, rebuilt ${show(d.rebuilt)}`);
    if (entryDifferences.length > limit) lines.push(`    ... and ${entryDifferences.length - limit} more`);
  }
  return lines;
}
