#!/usr/bin/env node
// Hands a project's build record (dist/docker/<project>.json, written by tools/docker-build.mjs and updated by
// tools/push.mjs) to the workflow: step outputs, and with --summary a job-summary table of image, digest and tags.
// Values come from the record file, never from expressions pasted into a script.
//
// Usage: node .github/scripts/image-record.mjs <project>... [--summary] | <project> --handoff DIR [--summary]
// Outputs (GITHUB_OUTPUT) for one project: image, ref (the local build tag), image-id, digest, digest-ref
// (image@digest), tags (newline list of pushed tags, else built tags), sboms (lines "<image>@<platform digest>
// <CycloneDX file>"); for one or more (a matrix batch): digest-refs, sboms and subject-checksums over all of them.
// --summary is for the steps that publish (sign, attest, deploy): it refuses a digest without a passing scan of it.
// --handoff DIR (publish.yml) writes what the signing job receives, and nothing else: DIR/handoff.txt with one line
// "index <image>@<digest>" and one "sbom <image>@<platform digest> <file>" per platform, plus those CycloneDX files.
// It refuses a digest that may not be released (lib/build-record.mjs releaseReason: no passing scan of exactly this
// digest, or a skipped runtime gate), so the signing job never sees one. It takes exactly one project: a batch job
// writes one handoff per image (DIR/<project> each), so the signing job checks and signs every image on its own.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { releaseReason, unscannedReason } from '../../tools/lib/build-record.mjs';
import { formatGitHubOutputs } from '../../tools/lib/metadata/github-output.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The record of one project, or a one-line error. */
export function readRecord(project, workspace = root) {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(project ?? '')) throw new Error(`invalid project name '${project}'`);
  const file = path.join(workspace, 'dist/docker', `${project}.json`);
  if (!existsSync(file)) throw new Error(`no dist/docker/${project}.json: build the image first (node tools/docker-build.mjs ${project})`);
  const record = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(record.tags) || !record.tags.length) throw new Error(`dist/docker/${project}.json lists no tags`);
  return record;
}

/** What the workflow reads: the pushed names win over the local build names. */
export function recordOutputs(record) {
  const image = record.pushed?.image ?? record.image;
  const digest = record.pushed?.digest ?? record.digest ?? '';
  return {
    image,
    ref: record.tags[0],
    'image-id': record.imageId ?? '',
    digest,
    'digest-ref': digest ? `${image}@${digest}` : '',
    tags: (record.pushed?.tags?.length ? record.pushed.tags : record.tags).join('\n'),
    sboms: Object.entries(record.scan?.platforms ?? {})
      .filter(([platform, result]) => digest && record.platforms?.[platform] && result.sbom?.cyclonedx)
      .map(([platform, result]) => `${image}@${record.platforms[platform].digest} ${result.sbom.cyclonedx}`)
      .join('\n'),
  };
}

const cell = (text) => `\`${String(text).replace(/[`|\n]/g, ' ')}\``;

/** Markdown for the job summary. */
export function summaryMarkdown(project, outputs) {
  const tags = outputs.tags.split('\n').filter(Boolean).map(cell).join('<br>');
  return [
    `### Image ${project}`,
    '',
    '| image | digest | tags |',
    '| --- | --- | --- |',
    `| ${cell(outputs.image)} | ${outputs.digest ? cell(outputs.digest) : 'not pushed'} | ${tags} |`,
    '',
  ].join('\n');
}

/**
 * Outputs of several records (a matrix batch) for the steps that go through every image: digest-refs (one
 * image@digest per line), sboms (all lines) and subject-checksums ("<hex>  <image>" lines, the format of
 * actions/attest-build-provenance's subject-checksums file).
 */
export function batchOutputs(list) {
  return {
    'digest-refs': list
      .map((o) => o['digest-ref'])
      .filter(Boolean)
      .join('\n'),
    sboms: list
      .map((o) => o.sboms)
      .filter(Boolean)
      .join('\n'),
    'subject-checksums': list
      .filter((o) => o.digest)
      .map((o) => `${o.digest.replace(/^sha256:/, '')}  ${o.image}`)
      .join('\n'),
  };
}

/** Writes the signing handoff of a releasable record into `dir` (see the header); returns the handoff file. */
export function writeHandoff(record, dir, workspace = root) {
  const refused = releaseReason(record);
  if (refused) throw new Error(`refusing to hand on a digest for signing: ${refused}`);
  const image = record.pushed?.image ?? record.image;
  mkdirSync(dir, { recursive: true });
  const lines = [`index ${image}@${record.digest}`];
  for (const [platform, { digest }] of Object.entries(record.platforms ?? {})) {
    const sbom = record.scan.platforms[platform]?.sbom?.cyclonedx;
    if (!sbom) throw new Error(`${record.project}: no CycloneDX SBOM for ${platform} in the scan record`);
    const file = `${record.project}.${platform.replaceAll('/', '-')}.cdx.json`;
    copyFileSync(path.resolve(workspace, sbom), path.join(dir, file));
    lines.push(`sbom ${image}@${digest} ${file}`);
  }
  const handoff = path.join(dir, 'handoff.txt');
  writeFileSync(handoff, `${lines.join('\n')}\n`);
  return handoff;
}

function main(argv, env) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { summary: { type: 'boolean' }, handoff: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (!positionals.length) throw new Error('expected one or more project names, e.g. node .github/scripts/image-record.mjs catalog');
  if (values.handoff && positionals.length !== 1)
    throw new Error('--handoff takes exactly one project (one handoff per image: run it once per image of a batch)');
  const records = positionals.map((project) => ({ project, record: readRecord(project) }));
  const list = records.map(({ record }) => recordOutputs(record));
  if (values.summary) {
    for (const [i, { project, record }] of records.entries()) {
      if (!list[i].digest) throw new Error(`dist/docker/${project}.json has no digest: nothing was pushed`);
      const refused = unscannedReason(record);
      if (refused) throw new Error(`refusing to hand on an unscanned digest: ${refused}`);
    }
  }
  // One project: its own outputs as before (image, digest, digest-ref, ...); always the batch outputs as well.
  const outputs = { ...(list.length === 1 ? list[0] : {}), ...batchOutputs(list) };
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, formatGitHubOutputs(outputs));
  if (values.summary) {
    const markdown = records.map(({ project }, i) => summaryMarkdown(project, list[i])).join('\n');
    if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
    process.stdout.write(markdown);
  } else if (!values.handoff) {
    process.stdout.write(`${JSON.stringify(list.length === 1 ? list[0] : list)}\n`);
  }
  if (values.handoff) process.stdout.write(`handoff: ${writeHandoff(records[0].record, path.resolve(values.handoff))}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`image-record: error: ${String(error?.message ?? error).split('\n')[0]}\n`);
    process.exitCode = 2;
  }
}
