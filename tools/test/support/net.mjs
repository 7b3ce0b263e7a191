// Loopback helpers for tests that start servers of their own: a free port, waiting for a URL, and a server process
// that is ready once its URL answers.
import { rmSync } from 'node:fs';
import net from 'node:net';
import { $, lastLine, retry } from '../../lib/process.mjs';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Polls `check` every `intervalMs` (zx retry) until it returns something truthy, and returns that; fails with `what`
 * after `timeoutMs`. Not a timing assertion, a bound. An error `check` throws ends the wait: it is the test's failure.
 */
export async function until(check, { timeoutMs = 60_000, intervalMs = 100, what }) {
  let failure;
  const value = await retry(Math.max(1, Math.ceil(timeoutMs / intervalMs)), intervalMs, async () => {
    let result;
    try {
      result = await check();
    } catch (error) {
      failure = error;
      return undefined; // stops retrying
    }
    if (!result) throw new Error('not yet');
    return result;
  }).catch(() => undefined);
  if (failure) throw failure;
  if (!value) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}`);
  return value;
}

/**
 * Polls `url` every 100 ms until it answers 2xx; throws once `child` (a zx process started with `nothrow: true`) has
 * exited or `timeoutMs` has passed, and then stops `child`.
 * @param {string} url
 * @param {{ child?: import('zx').ProcessPromise, timeoutMs?: number }} [options]
 */
export async function waitForHttp(url, { child, timeoutMs = 15_000 } = {}) {
  let exited = false;
  const markExited = () => (exited = true);
  child?.then(markExited, markExited);
  try {
    // an exited server ends the polling at once
    await until(
      async () =>
        exited ||
        (await fetch(url).then(
          (response) => response.ok,
          () => false,
        )),
      { timeoutMs, what: `${url} to answer` },
    );
  } catch (error) {
    child?.kill();
    throw error;
  }
  if (exited) throw new Error(`the server exited before ${url} answered`);
}

/**
 * Starts `command args...` (a server; stdin /dev/null, its output kept) and waits until `readyUrl` answers. On failure
 * removes `dir` and throws one line: `<what> did not start: <the server's last line>`.
 * @returns {Promise<{ child: import('zx').ProcessPromise, stop: () => Promise<void> }>}  stop() ends it and removes `dir`
 */
export async function startServer(command, args, { readyUrl, what, dir, timeoutMs }) {
  const child = $({ nothrow: true, stdio: ['ignore', 'pipe', 'pipe'] })`${command} ${args}`;
  const cleanUp = () => dir && rmSync(dir, { recursive: true, force: true });
  try {
    await waitForHttp(readyUrl, { child, timeoutMs });
  } catch (error) {
    const output = await child; // stopped by waitForHttp
    cleanUp();
    throw new Error(`${what} did not start: ${lastLine(output) || error.message}`);
  }
  return {
    child,
    async stop() {
      child.kill();
      await child;
      cleanUp();
    },
  };
}
