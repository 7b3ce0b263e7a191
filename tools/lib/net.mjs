// Loopback helpers for tests and tools that start servers of their own.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Polls `url` until it answers 2xx; throws `describe()` as the error once `child` exits or the time is up.
 * @param {string} url
 * @param {{ child?: import('node:child_process').ChildProcess, timeoutMs?: number, describe?: () => string }} [options]
 */
export async function waitForHttp(url, { child, timeoutMs = 15_000, describe = () => `${url} did not answer` } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (!child || child.exitCode === null)) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  child?.kill();
  throw new Error(describe());
}
