#!/usr/bin/env node
// Writes the production overlay's image override (a Kustomize Component with `images:` name + newName + digest)
// from the build records of pushed images. The publish workflow runs it over the records of every image it pushed,
// gated and signed, and attaches the result to the run (artifact k8s-images).
//
// Usage: node tools/k8s-images.mjs [--out FILE] [--merge FILE] [--comment TEXT] RECORD.json...
//   --out     write the Component here (default: stdout)
//   --merge   keep the entries of this earlier override for images without a record (a push to main publishes only
//             the affected images), e.g. deploy/k8s/overlays/production/images/kustomization.yaml
//   --comment one more header line (e.g. the commit the digests were built from)
// A record without a digest (never pushed) is refused with one line and exit 1; usage errors exit 2.
// With GITHUB_STEP_SUMMARY set, the override is also added to the job summary as a table.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readRecord } from './lib/build-record.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { buildOverride, imageEntry, parseOverride, renderComponent, summaryMarkdown } from './lib/k8s-images.mjs';

const readOverride = (file) => {
  if (!existsSync(file)) fail(`override ${file} not found`);
  return readFileSync(file, 'utf8');
};

export function k8sImages(argv, env = process.env) {
  const { values, positionals } = parseCliArgs(
    { args: argv, allowPositionals: true, options: { out: { type: 'string' }, merge: { type: 'string' }, comment: { type: 'string' } } },
    { hint: ' (usage: node tools/k8s-images.mjs [--out FILE] [--merge FILE] RECORD.json...)' },
  );
  if (!positionals.length) fail('no build records given (usage: node tools/k8s-images.mjs [--out FILE] [--merge FILE] RECORD.json...)');
  const entries = positionals.map((file) => imageEntry(readRecord(path.resolve(file)), file));
  const kept = values.merge ? parseOverride(readOverride(values.merge), values.merge) : [];
  const images = buildOverride(entries, { kept });
  const fromRecords = new Set(entries.map((entry) => entry.name));
  const keptNames = images.filter((image) => !fromRecords.has(image.name)).map((image) => image.name);
  const text = renderComponent(images, { comment: values.comment });
  if (values.out) {
    mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    writeFileSync(values.out, text);
    console.log(
      `k8s-images: ${entries.length} pushed image${entries.length === 1 ? '' : 's'} by digest${keptNames.length ? `, ${keptNames.length} kept from ${values.merge} (${keptNames.join(', ')})` : ''} -> ${values.out}`,
    );
  } else process.stdout.write(text);
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${summaryMarkdown(images, { kept: keptNames })}\n`);
  return images;
}

if (isMain(import.meta.url)) runMain(() => k8sImages(process.argv.slice(2)), 'k8s-images');
