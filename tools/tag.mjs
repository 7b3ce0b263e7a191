#!/usr/bin/env node
// Tags the digest tools/push.mjs pushed, in the registry: the same manifest bytes PUT under each tag name, so every
// tag names exactly the digest the gate scanned (no rebuild, no re-push). Refuses a digest without a passing scan
// record for it on every platform (dist/docker/<project>.json, written by tools/scan.mjs).
//
// Usage: node tools/tag.mjs <project> [--tags RULES] [--flavor FLAVOR]
//   --tags  tag rules (docker/metadata-action syntax) rendered for the pushed repository; default: the build's own tags
import { fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { readRecord, recordPath, unscannedReason, writeRecord } from './lib/build-record.mjs';
import { imageMetadata } from './lib/image-metadata.mjs';
import { parseImageRef, registryClient } from './lib/registry.mjs';

/** The tag part of an image reference (a registry port is not a tag). */
export function tagOf(ref) {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : 'latest';
}

export async function tag(project, { tags: rules, flavor } = {}) {
  const record = readRecord(recordPath(project));
  const refused = unscannedReason(record);
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
  for (const ref of tags) {
    await registry.putManifest(name, tagOf(ref), manifest.bytes, manifest.mediaType);
    console.log(`tag: ${ref} -> ${record.digest}`);
  }
  return writeRecord(recordPath(project), { ...record, pushed: { ...record.pushed, tags } });
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({ options: { tags: { type: 'string' }, flavor: { type: 'string' } }, allowPositionals: true });
    await tag(projectArgument(positionals, 'node tools/tag.mjs catalog --tags "type=sha"'), values);
  });
}
