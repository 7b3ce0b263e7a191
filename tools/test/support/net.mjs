// Loopback helpers for tests that start servers of their own.
import net from 'node:net';
import { retry } from '../../lib/process.mjs';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Polls `url` every 100 ms until it answers 2xx; throws `describe()` once `child` (a zx process started with
 * `nothrow: true`) has exited or `timeoutMs` has passed, and then stops `child`.
 * @param {string} url
 * @param {{ child?: import('zx').ProcessPromise, timeoutMs?: number, describe?: () => string }} [options]
 */
export async function waitForHttp(url, { child, timeoutMs = 15_000, describe = () => `${url} did not answer` } = {}) {
  let exited = false;
  const markExited = () => (exited = true);
  child?.then(markExited, markExited);
  try {
    await retry(Math.ceil(timeoutMs / 100), '100ms', async () => {
      if (exited) return false;
      if (!(await fetch(url)).ok) throw new Error(`${url} answered, but not 2xx`);
      return true;
    }).then((answered) => {
      if (!answered) throw new Error('exited');
    });
  } catch {
    child?.kill();
    throw new Error(describe());
  }
}
