#!/usr/bin/env node
// Tags one built image for a registry and pushes it; records the pushed digest in dist/docker/<project>.json.
// Tags are the build's own (from the metadata tool) moved onto --image, or computed anew from --tags rules.
//
// Usage: node tools/push.mjs <project> [--image REPO] [--tags RULES] [--flavor FLAVOR]
import { readFileSync, writeFileSync } from 'node:fs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { docker } from './lib/docker-engine.mjs';
import { builtImage } from './lib/image-inspection.mjs';
import { imageMetadata } from './lib/image-metadata.mjs';
import { recordFile } from './docker-build.mjs';

/** The tag part of an image reference (a registry port is not a tag). */
export function tagOf(ref) {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : 'latest';
}

export async function push(project, { image, tags: rules, flavor } = {}) {
  let record;
  try {
    record = builtImage(project);
  } catch (error) {
    fail(error.message);
  }
  const repository = (image ?? record.image).toLowerCase();
  const tags = rules
    ? (await imageMetadata({ project, image: repository, tags: rules, flavor })).tags
    : [...new Set(record.tags.map((ref) => `${repository}:${tagOf(ref)}`))];
  if (!tags.length) fail(`no tags to push for ${project} (the tag rules produced none for this event)`);
  for (const tag of tags) await docker(['tag', record.imageId, tag]);
  for (const tag of tags) {
    console.log(`push: ${tag}`);
    await docker(['push', tag]);
  }
  const repoDigests = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', record.imageId]));
  const digest = repoDigests.find((ref) => ref.startsWith(`${repository}@`))?.split('@')[1];
  if (!digest) fail(`pushed ${project} but the registry reported no digest for ${repository}`, 1);
  const updated = { ...JSON.parse(readFileSync(recordFile(project), 'utf8')), digest, pushed: { image: repository, tags, digest } };
  writeFileSync(recordFile(project), `${JSON.stringify(updated, null, 2)}\n`);
  console.log(`push: ${project} ${repository}@${digest}`);
  return updated;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const parsed = parseCliArgs({ options: { image: { type: 'string' }, tags: { type: 'string' }, flavor: { type: 'string' } }, allowPositionals: true });
    if (parsed.positionals.length !== 1) fail('expected exactly one project name, e.g. node tools/push.mjs catalog --image ghcr.io/acme/shop/catalog');
    await push(parsed.positionals[0], parsed.values);
  });
}
