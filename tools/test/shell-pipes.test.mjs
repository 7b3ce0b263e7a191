// Our shell runs under pipefail (.ci's scripts set it; GitHub runs `shell: bash` steps with -eo pipefail). There a
// reader that stops at its first match (grep -q, head, awk's exit) can leave the writer to die of SIGPIPE when it
// writes on, and the pipeline fails although the match was found. It failed a CI run once: `ip addr show | grep -q`
// (ip writes a line per address) took a present address for a missing one, 1 in 3000 runs idle. Capture the output,
// or let the reader read to the end, instead.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { workspaceRoot } from '../lib/workspace.mjs';

// `| grep -q …`, `| grep -Eq …`, `| head …`, `| awk '… exit …'`, `| sed … q` (a here-string `<<<` has no writer)
const EARLY_EXIT_READER =
  /\|\s*(grep\s+(-\w*q\b|--quiet|-m\s*\d|--max-count)|head\b|awk\s+(-\w+\s*('[^']*'|\S+)\s+)*'[^']*\bexit\b|sed\s+(-\w+\s+)*'?[^|']*\dq\b)/;

/** The lines of a shell text that pipe into a reader that may stop early (comments left out). */
const earlyExitPipes = (shell) =>
  shell
    .split('\n')
    .map((line, index) => ({ line: index + 1, text: line.replace(/(^|\s)#.*$/, '') }))
    .filter(({ text }) => EARLY_EXIT_READER.test(text));

const ciDir = path.join(workspaceRoot, '.ci');
const ciScripts = readdirSync(ciDir, { recursive: true })
  .map((f) => path.join('.ci', f))
  .filter((f) => statSync(path.join(workspaceRoot, f)).isFile());

const workflowsDir = path.join(workspaceRoot, '.github/workflows');
const workflowRuns = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .flatMap((f) =>
    Object.entries(YAML.parse(readFileSync(path.join(workflowsDir, f), 'utf8')).jobs).flatMap(([job, { steps = [] }]) =>
      steps.flatMap((step, index) => (step.run ? [{ where: `${f} ${job} step ${step.name ?? index}`, shell: step.run }] : [])),
    ),
  );

describe('no pipe into a reader that stops early, where pipefail is on', () => {
  test('the detector finds the pattern that failed CI, and passes what replaced it', () => {
    assert.equal(earlyExitPipes('ip addr show dev "$BRIDGE" | grep -q "inet 1/" || ip addr add').length, 1);
    assert.equal(earlyExitPipes('"$UPX" --version | head -1').length, 1);
    assert.equal(earlyExitPipes("ip route show | awk '{print $1; exit}'").length, 1);
    assert.equal(earlyExitPipes("apt-cache madison k | awk -F' *[|] *' '/trixie/ {print $2; exit}'").length, 1);
    assert.equal(earlyExitPipes("ip route show | awk '{print $1}' || exit 1").length, 0);
    assert.equal(earlyExitPipes("x=$(ip route show | awk 'NR == 1 {print $1}')").length, 0);
    assert.equal(earlyExitPipes(`grep -Eq 'v5' <<<"$(kubectl version)"`).length, 0);
    assert.equal(earlyExitPipes('upx --version | sed -n 1p  # not | head').length, 0);
  });

  test('.ci scripts', () => {
    assert.ok(ciScripts.includes('.ci/docker-engine'), `found ${ciScripts.join(', ')}`);
    const found = ciScripts.flatMap((f) =>
      earlyExitPipes(readFileSync(path.join(workspaceRoot, f), 'utf8')).map(({ line, text }) => `${f}:${line}: ${text.trim()}`),
    );
    assert.deepEqual(found, []);
  });

  test("workflow steps' run scripts", () => {
    assert.ok(workflowRuns.length > 20, `found ${workflowRuns.length} run steps`);
    const found = workflowRuns.flatMap(({ where, shell }) => earlyExitPipes(shell).map(({ text }) => `${where}: ${text.trim()}`));
    assert.deepEqual(found, []);
  });
});
