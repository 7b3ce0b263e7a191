// The Kustomize image override for the production overlay, from build records (dist/docker/<project>.json):
// one `images:` entry per pushed service with `name` (the image the bases name, <prefix>/<project>), `newName`
// (the registry repository it was pushed to) and `digest` (what was pushed, gated and signed). A record without a
// digest is refused: an override must never fall back to a tag.
// Problems with a record or an override are one CliError line with exit 1 (the publish job stops on them).
import YAML from 'yaml';
import { IMAGE_PREFIX } from './defaults.cjs';
import { fail } from './errors.mjs';

/** The image name every base Deployment uses (deploy/k8s/base/<project>/deployment.yaml): <prefix>/<project>. */
export const BASE_IMAGE_PREFIX = IMAGE_PREFIX;
const PROJECT = /^[a-z0-9][a-z0-9-]*$/;
const REPOSITORY = /^[a-z0-9][a-z0-9.-]*(?::\d+)?(?:\/[a-z0-9._-]+)+$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** One `images:` entry from a parsed build record; `source` names the record in errors. */
export function imageEntry(record, source, { prefix = BASE_IMAGE_PREFIX } = {}) {
  if (!record || typeof record !== 'object' || Array.isArray(record)) fail(`${source}: not a build record (a JSON object)`, 1);
  const { project } = record;
  if (typeof project !== 'string' || !PROJECT.test(project)) fail(`${source}: invalid project ${JSON.stringify(project)}`, 1);
  // tools/push.mjs records what it pushed under `pushed`; a --push build records image and digest directly.
  const repository = record.pushed?.image ?? record.image;
  const digest = record.pushed?.digest ?? record.digest;
  if (!digest) fail(`${source}: ${project} has no digest: it was never pushed, so it cannot be deployed by digest`, 1);
  if (typeof digest !== 'string' || !DIGEST.test(digest)) fail(`${source}: ${project} digest ${JSON.stringify(digest)} is not sha256:<64 hex>`, 1);
  if (typeof repository !== 'string' || !REPOSITORY.test(repository))
    fail(`${source}: ${project} image ${JSON.stringify(repository)} is not a registry repository (no tag, no digest)`, 1);
  return { name: `${prefix}/${project}`, newName: repository, digest };
}

/** Entries of an existing override (a Kustomize Component or Kustomization with `images:`), by name. */
export function parseOverride(text, source) {
  let doc;
  try {
    doc = YAML.parse(text);
  } catch (error) {
    fail(`${source}: not YAML (${String(error.message).split('\n')[0]})`, 1);
  }
  if (!Array.isArray(doc?.images)) fail(`${source}: no images: list`, 1);
  for (const entry of doc.images) {
    if (typeof entry?.name !== 'string' || typeof entry.newName !== 'string' || !DIGEST.test(String(entry.digest)))
      fail(`${source}: entry ${JSON.stringify(entry?.name)} is not name + newName + sha256 digest`, 1);
    if (entry.newTag !== undefined) fail(`${source}: entry ${entry.name} has a newTag; production takes digests only`, 1);
  }
  return doc.images.map(({ name, newName, digest }) => ({ name, newName, digest }));
}

/** The override: entries from the records, plus those of `kept` (an earlier override) for images not in them. */
export function buildOverride(entries, { kept = [] } = {}) {
  const byName = new Map(kept.map((entry) => [entry.name, entry]));
  const seen = new Set();
  for (const entry of entries) {
    if (seen.has(entry.name)) fail(`two records for ${entry.name}`, 1);
    seen.add(entry.name);
    byName.set(entry.name, entry);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The Component file, ready to replace deploy/k8s/overlays/production/images/kustomization.yaml. */
export function renderComponent(images, { comment } = {}) {
  const header = [
    '# Service images by digest for the production overlay, written by tools/k8s-images.mjs from the build records',
    '# of the images that were pushed, gated and signed. Verify each digest before applying (deploy/k8s/README.md).',
    ...(comment ? [`# ${comment.replace(/[\r\n]+/g, ' ')}`] : []),
  ].join('\n');
  const body = YAML.stringify({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', images });
  return `${header}\n${body}`;
}

/** A job-summary table of the override; `kept` names the entries that came from the merged override. */
export function summaryMarkdown(images, { kept = [] } = {}) {
  const cell = (text) => `\`${String(text).replace(/[`|\n]/g, ' ')}\``;
  const rows = images.map((i) => `| ${cell(i.newName)} | ${cell(i.digest)} | ${kept.includes(i.name) ? 'kept' : 'pushed by this run'} |`);
  return ['### Kubernetes image override (production overlay)', '', '| image | digest | source |', '| --- | --- | --- |', ...rows, ''].join('\n');
}
