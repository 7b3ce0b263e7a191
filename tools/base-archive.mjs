#!/usr/bin/env node
// Hands the base image this run built and gated from pr.yml's base job to its service jobs when nothing can be pushed
// (fork PRs have a read-only token): `save` writes the image and its build record as a compressed run artifact and
// prints the archive's sha256; `load` checks that sha256 (the job output of the base job) before anything in the
// archive is used, loads the image and checks that it is the recorded image ID, so a service job builds FROM exactly
// the base the base job tested and gated. Same-repository PRs push the base by digest instead (push.mjs).
//
// Usage: node tools/base-archive.mjs save --dir DIR
//        node tools/base-archive.mjs load --dir DIR --sha256 HEX
// With GITHUB_OUTPUT set, save writes outputs sha256 and ref; load writes ref (the loaded base's local tag).
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { BASE_PROJECT } from './lib/defaults.cjs';
import { readRecord, recordPath } from './lib/build-record.mjs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { docker } from './lib/docker-engine.mjs';
import { writeGitHubOutputs } from './lib/metadata/github-output.mjs';

export const ARCHIVE = `${BASE_PROJECT}.tar.gz`;
export const RECORD = `${BASE_PROJECT}.json`;
const USAGE = 'usage: node tools/base-archive.mjs save --dir DIR | load --dir DIR --sha256 HEX';

export async function sha256Of(file) {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function imageIdOf(ref) {
  const inspected = await docker(['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false });
  return inspected.ok ? inspected.stdout.trim() : null;
}

/** Saves the recorded base image (gzip) and its record into `dir`; returns {sha256, ref}. */
export async function saveBase(dir, { recordFile = recordPath(BASE_PROJECT) } = {}) {
  const record = readRecord(recordFile);
  const [ref] = record.tags;
  if (!ref) fail(`dist/docker/${RECORD} lists no tag to save`, 1);
  mkdirSync(dir, { recursive: true });
  const tar = path.join(dir, `${BASE_PROJECT}.tar`);
  try {
    const saved = await docker(['image', 'save', '--output', tar, ref], { reject: false });
    if (!saved.ok) fail(`docker image save ${ref} failed: ${saved.stderr.trim().split('\n').at(-1)}`, 1);
    await pipeline(createReadStream(tar), createGzip({ level: 6 }), createWriteStream(path.join(dir, ARCHIVE)));
  } finally {
    rmSync(tar, { force: true });
  }
  copyFileSync(recordFile, path.join(dir, RECORD));
  const sha256 = await sha256Of(path.join(dir, ARCHIVE));
  console.log(`base-archive: ${ref} (${record.imageId}) saved to ${path.join(dir, ARCHIVE)}, sha256 ${sha256}`);
  return { sha256, ref };
}

/** Checks the archive against `expected` (sha256 hex), loads it, checks the image ID, installs the record. */
export async function loadBase(dir, expected, { recordFile = recordPath(BASE_PROJECT) } = {}) {
  if (!/^[0-9a-f]{64}$/.test(expected ?? '')) fail(`--sha256 must be 64 lowercase hex digits (the base job's output), got '${expected ?? ''}'`);
  const archive = path.join(dir, ARCHIVE);
  if (!existsSync(archive)) fail(`no ${archive}: download the base job's artifact first`, 1);
  const actual = await sha256Of(archive);
  if (actual !== expected) fail(`${archive} has sha256 ${actual}, not ${expected} (the base job's output): refusing to use it`, 1);
  const record = JSON.parse(readFileSync(path.join(dir, RECORD), 'utf8'));
  const tar = path.join(dir, `${BASE_PROJECT}.tar`);
  try {
    await pipeline(createReadStream(archive), createGunzip(), createWriteStream(tar));
    const loaded = await docker(['image', 'load', '--input', tar], { reject: false });
    if (!loaded.ok) fail(`docker image load failed: ${loaded.stderr.trim().split('\n').at(-1)}`, 1);
  } finally {
    rmSync(tar, { force: true });
  }
  const [ref] = record.tags ?? [];
  const id = ref ? await imageIdOf(ref) : null;
  if (id !== record.imageId) fail(`the loaded ${ref ?? 'image'} is ${id ?? 'missing'}, not the recorded base ${record.imageId}`, 1);
  // docker-build takes a service's BASE_IMAGE from this record (its first tag), so the services build FROM this image.
  mkdirSync(path.dirname(recordFile), { recursive: true });
  copyFileSync(path.join(dir, RECORD), recordFile);
  console.log(`base-archive: ${ref} (${id}) loaded from an archive with the expected sha256`);
  return { ref };
}

export async function main(argv = process.argv.slice(2), env = process.env) {
  const { values, positionals } = parseCliArgs(
    { args: argv, allowPositionals: true, options: { dir: { type: 'string' }, sha256: { type: 'string' } } },
    { hint: ` (${USAGE})` },
  );
  const [mode, ...rest] = positionals;
  if (!['save', 'load'].includes(mode) || rest.length) fail(USAGE);
  if (!values.dir) fail(`--dir is required (${USAGE})`);
  if (mode === 'save') {
    if (values.sha256 !== undefined) fail('save takes no --sha256 (it prints the archive sha256)');
    const saved = await saveBase(values.dir);
    writeGitHubOutputs({ sha256: saved.sha256, ref: saved.ref }, env);
    return 0;
  }
  const loaded = await loadBase(values.dir, values.sha256);
  writeGitHubOutputs({ ref: loaded.ref }, env);
  return 0;
}

if (isMain(import.meta.url)) runMain(() => main(), 'base-archive');
