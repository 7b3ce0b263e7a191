#!/usr/bin/env node
// Builds one project once per platform, each with its final tags and labels and its own build record
// (dist/docker/<project>.<os>-<arch>.json), ready for tools/push.mjs --platforms to push them by digest as one index.
// One docker-build per platform loads each image into the engine's store in both image stores (the classic store
// cannot load a multi-platform build), where push.mjs finds it.
//
// Usage: node tools/build-platforms.mjs <project> --platforms P[,P...] [--image REPO] [--tags RULES] [--flavor F]
//          [--secret SPEC]... [--build-arg K=V]... [--cache-from S]... [--cache-to S]...
import { dockerBuild, parseBuildArgs } from './docker-build.mjs';
import { platformRecordPath } from './lib/build-record.mjs';
import { fail, isMain, parseCliArgs, projectArgument, runMain } from './lib/cli.mjs';
import { parseSecretSpec } from './lib/secrets.mjs';
import { parsePlatforms } from './push.mjs';

export async function buildPlatforms(project, { platforms, image, tags, flavor, secrets = [], buildArgs = {}, cacheFrom, cacheTo }) {
  const records = {};
  for (const platform of platforms) {
    records[platform] = await dockerBuild({
      project,
      image,
      tags,
      flavor,
      secrets,
      buildArgs,
      platform,
      'cache-from': cacheFrom,
      'cache-to': cacheTo,
      record: platformRecordPath(project, platform),
    });
  }
  return records;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({
      options: {
        platforms: { type: 'string' },
        image: { type: 'string' },
        tags: { type: 'string' },
        flavor: { type: 'string' },
        secret: { type: 'string', multiple: true },
        'build-arg': { type: 'string', multiple: true },
        'cache-from': { type: 'string', multiple: true },
        'cache-to': { type: 'string', multiple: true },
      },
      allowPositionals: true,
    });
    const project = projectArgument(positionals, 'node tools/build-platforms.mjs catalog --platforms linux/amd64,linux/arm64');
    const platforms = parsePlatforms(values.platforms);
    if (!platforms.length) fail('--platforms needs at least one platform, e.g. linux/amd64,linux/arm64');
    await buildPlatforms(project, {
      platforms,
      image: values.image,
      tags: values.tags,
      flavor: values.flavor,
      secrets: (values.secret ?? []).map(parseSecretSpec),
      buildArgs: parseBuildArgs(values['build-arg']),
      cacheFrom: values['cache-from'],
      cacheTo: values['cache-to'],
    });
  });
}
