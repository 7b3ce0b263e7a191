// The two inputs where docker/metadata-action goes on silently with something other than what was written, and our
// tool stops instead (documented in tools/README.md, "Where we deliberately differ"): an unquoted date format and a
// label entry without `=`. Each with the accepted spelling beside it, so the check is shown to pass as well as fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { computeMetadata } from '../docker-metadata.mjs';
import { $ } from '../lib/process.mjs';

const TOOL = fileURLToPath(new URL('../docker-metadata.mjs', import.meta.url));
const NOW = new Date('2020-01-10T00:30:00.000Z');
const env = {
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: '860c1904a1ce19322e91ac35af1ab07466440c37',
  GITHUB_REPOSITORY: 'acme/shop',
};
/** This process's environment without a surrounding Actions run's context, plus `env`. */
const childEnv = () => ({ ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(GITHUB_|RUNNER_|DOCKER_METADATA_)/.test(key))), ...env });
const metadata = (input) => computeMetadata({ images: 'ghcr.io/acme/shop', now: NOW, env, ...input });

/** A CliError with exit 2 and a one-line message matching `pattern`. */
const strictInputError = (pattern) => (error) =>
  error.name === 'CliError' && error.exitCode === 2 && pattern.test(error.message) && !error.message.includes('\n');

test('a quoted date format renders; the same format unquoted is an error that shows the quoted spelling', () => {
  assert.deepEqual(metadata({ tags: "type=raw,value={{date 'YYYY-MM-DD'}}" }).tagNames, ['2020-01-10']);
  assert.deepEqual(metadata({ tags: 'type=raw,value={{date "YYYYMMDD" tz=\'Asia/Tokyo\'}}' }).tagNames, ['20200110']);
  for (const [tags, quoted] of [
    ['type=raw,value={{date YYYY-MM-DD}}', "{{date 'YYYY-MM-DD'}}"],
    ['type=schedule,pattern=nightly-{{date YYYYMMDD}}', "{{date 'YYYYMMDD'}}"],
    ['type=raw,value={{commit_date YYYY}}', "{{commit_date 'YYYY'}}"],
  ]) {
    assert.throws(
      () => metadata({ tags, env: { ...env, GITHUB_EVENT_NAME: tags.includes('schedule') ? 'schedule' : 'push' } }),
      strictInputError(new RegExp(`quote the format, e\\.g\\. ${quoted.replace(/[{}]/g, '\\$&')}`)),
      tags,
    );
  }
});

test('a label entry key=value is taken (an empty value too); one without = is an error naming the entry', () => {
  const labels = metadata({ labels: 'org.example.team=payments\norg.example.empty=' }).labels;
  assert.equal(labels['org.example.team'], 'payments');
  assert.equal(labels['org.example.empty'], '');
  assert.throws(() => metadata({ labels: 'org.example.team=payments\norg.example.owner' }), strictInputError(/^invalid label "org\.example\.owner": no '='/));
});

test('the CLI reports both as one line on stderr and exit 2, with nothing on stdout', () => {
  for (const args of [
    ['--images', 'a/b', '--tags', 'type=raw,value={{date YYYY-MM-DD}}'],
    ['--images', 'a/b', '--labels', 'org.example.owner'],
  ]) {
    const run = $.sync({ nothrow: true, env: childEnv() })`${process.execPath} ${TOOL} ${args}`;
    assert.equal(run.exitCode, 2, args.join(' '));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^docker-metadata: error: .*(quote the format|no '=')/);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});
