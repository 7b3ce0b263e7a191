#!/usr/bin/env node
// Docker tags and OCI labels with docker/metadata-action semantics, from the GitHub Actions environment (no API
// token) or the local git checkout. CLI: prints {version, tags, labels}; with GITHUB_OUTPUT set, also writes step
// outputs. Library: computeMetadata(options), readGitHubContext(env), readGitContext({cwd, env}). See tools/README.md.
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { computeMetadata } from './lib/metadata/compute.mjs';
import { writeGitHubOutputs } from './lib/metadata/github-output.mjs';

export { computeMetadata } from './lib/metadata/compute.mjs';
export { readGitHubContext, readGitContext, resolveContext } from './lib/metadata/context.mjs';
export { finalizeTag, normalizeImageName } from './lib/metadata/names.mjs';

const USAGE = `Usage: node tools/docker-metadata.mjs [--images LIST] [--tags RULES] [--flavor LIST] [--labels LIST]
                                      [--project NAME | --package-json PATH]
  --images        image names, comma/newline separated, or name=<image>,enable=<bool> per line
  --tags          tag rules, one per line (type=schedule|ref|semver|pep440|match|edge|sha|raw,...)
  --flavor        latest=auto|true|false, prefix=<s>[,onlatest=true], suffix=<s>[,onlatest=true]
  --labels        custom labels key=value, one per line (override generated ones)
  --project       Nx project whose package.json gives title/description/licenses labels
  --package-json  package.json to read those labels from
List flags may be repeated. Context: GITHUB_* variables in GitHub Actions, else the local git checkout.
Prints {"version","tags","labels"}; with GITHUB_OUTPUT set also writes outputs version, tags, tag-names, labels, json.`;

const FLAGS = {
  images: { type: 'string', multiple: true },
  tags: { type: 'string', multiple: true },
  flavor: { type: 'string', multiple: true },
  labels: { type: 'string', multiple: true },
  project: { type: 'string' },
  'package-json': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** The CLI: prints the metadata (and writes step outputs); bad input throws one CliError line. */
export function main(argv = process.argv.slice(2), env = process.env) {
  const { values: flags } = parseCliArgs({ args: argv, options: FLAGS }, { hint: ' (see --help)' });
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (flags.project && flags['package-json']) fail('use --project or --package-json, not both');
  const result = computeMetadata({
    images: flags.images,
    tags: flags.tags,
    flavor: flags.flavor,
    labels: flags.labels,
    project: flags.project,
    packageJson: flags['package-json'],
    env,
  });
  const inActions = env.GITHUB_ACTIONS === 'true';
  for (const warning of result.warnings) process.stderr.write(inActions ? `::warning::${warning}\n` : `docker-metadata: warning: ${warning}\n`);
  const output = { version: result.version, tags: result.tags, labels: result.labels };
  writeGitHubOutputs(
    {
      version: result.version,
      tags: result.tags.join('\n'),
      'tag-names': result.tagNames.join('\n'),
      labels: Object.entries(result.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
      json: JSON.stringify(output),
    },
    env,
  );
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

if (isMain(import.meta.url)) runMain(() => main(), 'docker-metadata');
