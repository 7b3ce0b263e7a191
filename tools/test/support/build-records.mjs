// Fixture build records for tests of the tools that read dist/docker/<project>.json (k8s-images, its rehearsal).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const digestOf = (char) => `sha256:${char.repeat(64)}`;

/** A build record as tools/docker-build.mjs --push writes it (image and digest at the top level). */
export const record = (project, digest, extra = {}) => ({
  project,
  image: `ghcr.io/acme/shop/${project}`,
  tags: [`ghcr.io/acme/shop/${project}:edge`],
  imageId: digestOf('f'),
  labels: { 'org.opencontainers.image.title': project },
  version: 'edge',
  ...(digest ? { digest } : {}),
  ...extra,
});

/** Writes `value` (a record, or raw text) as folder/<project>.json (or `name`); returns the file. */
export const writeRecord = (folder, value, name = `${value.project}.json`) => {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
};
