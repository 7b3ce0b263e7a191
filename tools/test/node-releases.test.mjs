// The Node.js release index: a newer security release in the same major line is found; other lines never count.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadReleaseIndex, securityFinding, securityStatus } from '../lib/node-releases.mjs';

const fixture = path.join(import.meta.dirname, 'fixtures/node-release-index.json');
const dir = mkdtempSync(path.join(os.tmpdir(), 'node-releases-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('node release index', () => {
  test('a runtime behind a security release of its line: names the releases and the version to move to', async () => {
    const status = securityStatus('24.21.0', await loadReleaseIndex(fixture));
    assert.deepEqual(status, { version: '24.21.0', latest: '24.22.3', security: ['24.22.2'] });
    assert.equal(securityFinding(status), 'Node.js 24.21.0 is behind security release 24.22.2: move to 24.22.3');
  });
  test('current runtime, and security releases of other major lines, are no finding', async () => {
    const index = await loadReleaseIndex(fixture);
    assert.equal(securityFinding(securityStatus('v24.22.3', index)), null);
    assert.equal(securityFinding(securityStatus('24.22.2', index)), null, 'newer non-security release only');
    assert.equal(securityFinding(securityStatus('25.2.0', index)), null);
  });
  test('an unreadable or malformed index is one line with exit 3, never a stack', async () => {
    await assert.rejects(loadReleaseIndex(path.join(dir, 'missing.json')), { exitCode: 3, message: /cannot read the Node.js release index .*ENOENT/ });
    writeFileSync(path.join(dir, 'bad.json'), '{"not":"a list"}');
    await assert.rejects(loadReleaseIndex(path.join(dir, 'bad.json')), { exitCode: 3, message: /not a non-empty list/ });
    writeFileSync(path.join(dir, 'bad-version.json'), '[{"version":"banana"}]');
    await assert.rejects(loadReleaseIndex(path.join(dir, 'bad-version.json')), { exitCode: 3, message: /entry 0 has no valid version/ });
    // a port that was just free: nothing listens there
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(loadReleaseIndex(`http://127.0.0.1:${port}/index.json`), { exitCode: 3, message: /ECONNREFUSED/ });
  });
});
