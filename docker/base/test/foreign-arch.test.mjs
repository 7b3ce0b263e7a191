// The binfmt handler is machine-global and suites run side by side: a process running foreign containers keeps it on
// (holdEmulation), and another process's switch-off (withoutEmulation) waits until it lets go.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { emulationEnabled as enabled, holdEmulation, withoutEmulation } from './support/foreign-arch.mjs';

const support = new URL('./support/foreign-arch.mjs', import.meta.url).href;

test('a switch-off in one process waits while another holds the handler on, and the handler is on again after', async () => {
  // the other process: holds the handler, says so, checks it for 3 s, then lets go and reports what it saw
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { emulationEnabled, holdEmulation } = await import(${JSON.stringify(support)});
       const release = await holdEmulation();
       console.log('held');
       let off = 0;
       for (let i = 0; i < 30; i++) {
         if (!emulationEnabled()) off++;
         await new Promise((resolve) => setTimeout(resolve, 100));
       }
       console.log('released at ' + Date.now());
       await release();
       console.log('off ' + off);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(holder, 'exit');
  let out = '';
  holder.stdout.on('data', (chunk) => (out += chunk));
  while (!out.includes('held')) await once(holder.stdout, 'data');
  let offAt;
  await withoutEmulation(async () => {
    offAt = Date.now();
    assert.equal(enabled(), false);
  });
  const [code] = await exited;
  assert.equal(code, 0, out);
  assert.match(out, /off 0$/m, `the handler went off while another process held it:\n${out}`);
  assert.ok(offAt >= Number(/released at (\d+)/.exec(out)[1]), `switched off before the holder let go:\n${out}`);
  assert.equal(enabled(), true);
  // and a holder in this process sees it on
  const release = await holdEmulation();
  assert.equal(enabled(), true);
  await release();
});
