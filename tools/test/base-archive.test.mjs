// tools/base-archive.mjs: pr.yml's hand-over of the base image to the service jobs of a fork PR (a run artifact).
// A tiny image (one file, `docker import`) stands in for the base: saved with its record, then loaded only when the
// archive's sha256 is the one the base job announced and the loaded image is the recorded image ID. Needs Docker.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARCHIVE, RECORD, loadBase, saveBase, sha256Of } from '../base-archive.mjs';
import { docker, requireDocker } from '../lib/docker-engine.mjs';
import { assertOneLineError, runTool } from './support/run-tool.mjs';

const TOOL = 'tools/base-archive.mjs';
const REF = `base-archive-test/base-image:${process.pid}`;

describe('base-archive: save, check, load', () => {
  let dir;
  let record;
  let imageId;
  before(async () => {
    await requireDocker();
    dir = mkdtempSync(path.join(os.tmpdir(), 'base-archive-'));
    writeFileSync(path.join(dir, 'hello.txt'), `base ${process.pid}\n`);
    const tar = path.join(dir, 'rootfs.tar');
    const { execFileSync } = await import('node:child_process');
    execFileSync('tar', ['-C', dir, '-cf', tar, 'hello.txt']);
    await docker(['image', 'import', tar, REF]);
    imageId = await docker(['image', 'inspect', '--format', '{{.Id}}', REF]);
    record = path.join(dir, 'records', 'base-image.json');
    mkdirSync(path.dirname(record), { recursive: true });
    writeFileSync(record, JSON.stringify({ project: 'base-image', image: 'base-archive-test/base-image', tags: [REF], imageId, labels: {} }));
  });
  after(async () => {
    await docker(['image', 'rm', '--force', REF], { reject: false });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('save writes a gzip archive and the record; load checks the sha256, loads it, and installs the record', async () => {
    const out = path.join(dir, 'artifact');
    const { sha256, ref } = await saveBase(out, { recordFile: record });
    assert.equal(ref, REF);
    assert.equal(sha256, await sha256Of(path.join(out, ARCHIVE)));
    assert.deepEqual(readFileSync(path.join(out, ARCHIVE)).subarray(0, 2), Buffer.from([0x1f, 0x8b]), 'gzip');
    assert.ok(existsSync(path.join(out, RECORD)));
    // A fresh runner: the image is gone until the archive is loaded.
    await docker(['image', 'rm', '--force', REF]);
    const installed = path.join(dir, 'service-job', 'base-image.json');
    assert.deepEqual(await loadBase(out, sha256, { recordFile: installed }), { ref: REF });
    assert.equal(await docker(['image', 'inspect', '--format', '{{.Id}}', REF]), imageId);
    assert.equal(JSON.parse(readFileSync(installed, 'utf8')).imageId, imageId, 'docker-build reads the base from this record');
  });

  test('a tampered archive or another sha256 is refused before anything is loaded (counter-example)', async () => {
    const out = path.join(dir, 'tampered');
    const { sha256 } = await saveBase(out, { recordFile: record });
    await assert.rejects(loadBase(out, 'f'.repeat(64), { recordFile: path.join(dir, 'x.json') }), /has sha256 [0-9a-f]{64}, not f{64} .*refusing to use it/);
    appendFileSync(path.join(out, ARCHIVE), 'x');
    await assert.rejects(loadBase(out, sha256, { recordFile: path.join(dir, 'x.json') }), /refusing to use it/);
    assert.equal(existsSync(path.join(dir, 'x.json')), false, 'no record installed');
  });

  test('a record naming another image ID is refused after the load (counter-example)', async () => {
    const out = path.join(dir, 'other-id');
    const { sha256 } = await saveBase(out, { recordFile: record });
    const copied = JSON.parse(readFileSync(path.join(out, RECORD), 'utf8'));
    writeFileSync(path.join(out, RECORD), JSON.stringify({ ...copied, imageId: `sha256:${'e'.repeat(64)}` }));
    await assert.rejects(loadBase(out, sha256, { recordFile: path.join(dir, 'y.json') }), /is sha256:[0-9a-f]{64}, not the recorded base sha256:e{64}/);
  });

  test('bad input: one line and exit 2 (or 1 for a missing archive)', () => {
    for (const [args, message, code] of [
      [[], /usage: node tools\/base-archive\.mjs save/, 2],
      [['copy', '--dir', dir], /usage:/, 2],
      [['save'], /--dir is required/, 2],
      [['save', '--dir', dir, '--sha256', 'a'.repeat(64)], /save takes no --sha256/, 2],
      [['load', '--dir', dir, '--sha256', 'nothex'], /--sha256 must be 64 lowercase hex digits/, 2],
      [['load', '--dir', path.join(dir, 'nowhere'), '--sha256', 'a'.repeat(64)], /no .*base-image\.tar\.gz: download the base job's artifact first/, 1],
    ])
      assertOneLineError(runTool(TOOL, args), { tool: 'base-archive', code, message, what: args.join(' ') });
  });
});
