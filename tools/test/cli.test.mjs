// The one CLI convention (tools/lib/cli.mjs) and what tools/lib/process.mjs adds to zx, as every tool sees them:
// bad flags are one line and exit 2, any error leaves a tool as one line on stderr with its exit code, a failed
// command is named by its exit and last line, and a remembered secret never shows in echoed commands or streamed output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { CliError, parseCliArgs, projectArgument } from '../lib/cli.mjs';
import { $, describeFailure } from '../lib/process.mjs';
import { workspaceRoot } from '../lib/workspace.mjs';

const lib = (name) => pathToFileURL(`${workspaceRoot}/tools/lib/${name}`).href;

/**
 * Runs an ES module given as text in a fresh node process (a tool in miniature); returns its exit code and output
 * without colours (zx colours echoed commands where the environment asks for colour, as CI does).
 */
const runModule = (source, env = {}) => {
  const output = $.sync({ nothrow: true, env: { ...process.env, ...env } })`${process.execPath} --input-type=module -e ${source}`;
  return { exitCode: output.exitCode, stdout: stripVTControlCharacters(output.stdout), stderr: stripVTControlCharacters(output.stderr) };
};

const OPTIONS = { image: { type: 'string' }, tag: { type: 'string', multiple: true }, push: { type: 'boolean' } };
const parse = (args, hint) => parseCliArgs({ args, options: OPTIONS, allowPositionals: false }, { hint });
const usageError = (message) => (error) => error instanceof CliError && error.exitCode === 2 && error.message === message;

test('flags: values, repeats of multiple flags and booleans parse; every misuse is one CliError line, exit 2', () => {
  assert.deepEqual({ ...parse(['--image', 'a/b', '--tag=x', '--tag', 'y', '--push']).values }, { image: 'a/b', tag: ['x', 'y'], push: true });
  assert.throws(() => parse(['--imgae', 'a/b'], ' (see --help)'), usageError('unknown flag --imgae (see --help)'));
  assert.throws(() => parse(['--image']), usageError('--image needs a value'));
  assert.throws(() => parse(['--push=yes']), usageError('--push takes no value'));
  assert.throws(() => parse(['stray']), usageError("unexpected argument 'stray'"));
  assert.throws(() => parse(['--image', 'a', '--image=b']), usageError('--image given more than once'));
});

test('the project argument: exactly one valid Nx project name', () => {
  assert.equal(projectArgument(['catalog'], 'x'), 'catalog');
  assert.throws(() => projectArgument([], 'node tools/scan.mjs catalog'), usageError('expected exactly one project name, e.g. node tools/scan.mjs catalog'));
  assert.throws(() => projectArgument(['a', 'b'], 'x'), CliError);
  assert.throws(() => projectArgument(['../etc'], 'x'), usageError("invalid project name '../etc'"));
});

test('runMain: any error leaves the tool as one line on stderr with its exit code; a returned number is the exit code', () => {
  const cases = [
    [`throw new Error('first line\\nsecond line\\n    at somewhere')`, 1, 'tool: error: first line\n'],
    [`fail('bad input')`, 2, 'tool: error: bad input\n'],
    [`throw new CliError('findings', 5)`, 5, 'tool: error: findings\n'],
    // a zx command that failed and was not handled: named by its exit code and the last line it wrote
    ["await $`sh -c ${'echo working; echo first >&2; echo boom >&2; exit 3'}`", 1, 'tool: error: a command failed (exit 3): boom\n'],
    ['return 4', 4, ''],
  ];
  for (const [body, exitCode, stderr] of cases) {
    const run = runModule(`import { CliError, fail, runMain } from '${lib('cli.mjs')}'; import { $ } from '${lib('process.mjs')}';
      runMain(async () => { ${body} }, 'tool');`);
    assert.equal(run.exitCode, exitCode, body);
    assert.equal(run.stderr, stderr, body);
  }
});

test('a failed or timed-out command is described in one line', async () => {
  const failed = await $({ nothrow: true })`sh -c ${'echo partial; echo "no such image" >&2; exit 7'}`;
  assert.equal(describeFailure(failed, 'docker pull'), 'docker pull failed (exit 7): no such image');
  const silent = await $({ nothrow: true })`sh -c ${'exit 9'}`;
  assert.equal(describeFailure(silent), 'a command failed (exit 9)');
  const slow = await $({ nothrow: true, timeout: '200ms' })`sleep 5`;
  assert.equal(describeFailure(slow, 'sleep'), 'sleep failed (signal SIGTERM)');
});

test('a remembered secret is redacted from echoed commands and streamed lines, and only there (the captured output is whole)', () => {
  const secret = 'canary-7f3a9c1e';
  const script = (remember) => `import { $, streamLines } from '${lib('process.mjs')}'; import { rememberSecret } from '${lib('secrets.mjs')}';
    ${remember ? `rememberSecret('${secret}');` : ''}
    await $\`echo \${'token ${secret}'}\`;
    const out = await streamLines($\`sh -c \${'echo "line one ${secret}"; echo "err two" >&2'}\`, { prefix: '[svc] ' });
    process.stdout.write('captured: ' + out.stdout);`;
  const redacted = runModule(script(true), { TOOLS_VERBOSE: '1' });
  assert.equal(redacted.exitCode, 0, redacted.stderr);
  assert.doesNotMatch(redacted.stdout + redacted.stderr.replace(/^captured.*$/m, ''), new RegExp(`\\[svc\\] .*${secret}|echo .*${secret}`));
  assert.match(redacted.stderr, /\$ echo .*token \*\*\*/, 'the echoed command, redacted');
  assert.match(redacted.stdout, /^\[svc\] line one \*\*\*$/m, 'a streamed stdout line, prefixed and redacted');
  assert.match(redacted.stderr, /^\[svc\] err two$/m, 'a streamed stderr line goes to stderr');
  assert.match(redacted.stdout, new RegExp(`^captured: line one ${secret}$`, 'm'), 'the captured output is unredacted (e.g. for a 0600 --log file)');
  // counter-example: a value nobody remembered is printed as it is
  const plain = runModule(script(false), { TOOLS_VERBOSE: '1' });
  assert.match(plain.stdout, new RegExp(`^\\[svc\\] line one ${secret}$`, 'm'));
  // quiet by default: without TOOLS_VERBOSE no command is echoed
  assert.doesNotMatch(runModule(script(true)).stderr, /\$ echo/);
});

test('a command given a stripped-down environment still runs as a nested shell (SHLVL), so bash never reads ~/.bashrc', async () => {
  // bash sources ~/.bashrc when its stdin is a socket and SHLVL is unset (it takes itself for a remote shell)
  const nested = await $({ env: { PATH: process.env.PATH } })`echo $SHLVL`;
  assert.equal(nested.stdout.trim(), '2');
  assert.equal(nested.stderr, '');
  // SHLVL 0 (what bash hands a command started as `( cmd & )`) is the same remote-shell case
  const fromBackground = await $({ env: { PATH: process.env.PATH, SHLVL: '0' } })`echo $SHLVL`;
  assert.equal(fromBackground.stdout.trim(), '2');
  const nestedDeeper = await $({ env: { PATH: process.env.PATH, SHLVL: '4' } })`echo $SHLVL`;
  assert.equal(nestedDeeper.stdout.trim(), '5', "a caller's own level is kept");
});
