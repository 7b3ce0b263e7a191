#!/usr/bin/env node
// Tags the digest tools/push.mjs pushed, in the registry: the same manifest bytes PUT under each tag name, so every
// tag names exactly the digest the gate scanned (no rebuild, no re-push). Refuses a digest without a passing scan
// record for it on every platform (dist/docker/<project>.json, written by tools/scan.mjs).
// Tags never move backwards (lib/tag-moves.mjs): every existing tag is compared with what it holds now before any
// tag is written, so a refused run leaves the registry as it was.
//
// Usage: node tools/tag.mjs <project> [--tags RULES] [--flavor FLAVOR] [--release] [--follow-head]
//   --tags         tag rules (docker/metadata-action syntax) rendered for the pushed repository; default: the build's own tags
//   --release      publish.yml: also refuse a scan whose Node.js runtime gate was skipped
//   --follow-head  pr.yml: PR tags follow the PR's head, also after a force-push (no ancestry check)
import { fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { readRecord, recordPath, releaseReason, unscannedReason, writeRecord } from './lib/build-record.mjs';
import { imageMetadata } from './lib/image-metadata.mjs';
import { parseImageRef, registryClient } from './lib/registry.mjs';
import { backwardsReason, gitAncestry, labelsOf } from './lib/tag-moves.mjs';

/** The tag part of an image reference (a registry port is not a tag). */
export function tagOf(ref) {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : 'latest';
}

/**
 * @param {string} project
 * @param {{tags?: string, flavor?: string, release?: boolean, followHead?: boolean, gitDir?: string}} [options]
 *   gitDir: the checkout whose history decides whether a commit descends from another (default: the working directory)
 */
export async function tag(project, { tags: rules, flavor, release = false, followHead = false, gitDir = process.cwd() } = {}) {
  const record = readRecord(recordPath(project));
  const refused = release ? releaseReason(record) : unscannedReason(record);
  if (refused) fail(`not tagging: ${refused}`, 1);
  const repository = record.pushed.image;
  const tags = rules
    ? (await imageMetadata({ project, image: repository, tags: rules, flavor })).tags
    : [...new Set(record.tags.map((ref) => `${repository}:${tagOf(ref)}`))];
  if (!tags.length) fail(`no tags for ${project} (the tag rules produced none for this event)`);
  const { host, repository: name } = parseImageRef(`${repository}@${record.digest}`);
  const registry = registryClient(host);
  const manifest = await registry.getManifest(name, record.digest);
  if (!manifest) fail(`${host} has no ${name}@${record.digest} to tag`, 1);

  // Every tag is checked before any is written: a refusal leaves the registry exactly as it was.
  const isAncestor = gitAncestry(gitDir);
  const moves = [];
  for (const ref of tags) {
    const held = await registry.getManifest(name, tagOf(ref));
    if (held?.digest === record.digest) {
      console.log(`tag: ${ref} already names ${record.digest}`);
      continue;
    }
    if (held && !followHead) {
      const reason = await backwardsReason(tagOf(ref), await labelsOf(registry, name, held), record.labels ?? {}, { isAncestor });
      if (reason) fail(`not tagging ${project}: ${tagOf(ref)} ${reason}; no tag was moved`, 1);
    }
    moves.push(ref);
  }
  for (const ref of moves) {
    await registry.putManifest(name, tagOf(ref), manifest.bytes, manifest.mediaType);
    console.log(`tag: ${ref} -> ${record.digest}`);
  }
  return writeRecord(recordPath(project), { ...record, pushed: { ...record.pushed, tags } });
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({
      options: { tags: { type: 'string' }, flavor: { type: 'string' }, release: { type: 'boolean' }, 'follow-head': { type: 'boolean' } },
      allowPositionals: true,
    });
    await tag(projectArgument(positionals, 'node tools/tag.mjs catalog --tags "type=sha"'), {
      tags: values.tags,
      flavor: values.flavor,
      release: values.release,
      followHead: values['follow-head'],
    });
  });
}
