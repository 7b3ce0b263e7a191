'use strict';
// Container health probe for images that have no shell and no curl: HEALTHCHECK runs it in exec form.
// It asks the service's own readiness endpoint on loopback, so "healthy" means "ready for traffic".
const http = require('node:http');

const port = Number(process.env.PORT || 3000);
const path = process.env.HEALTHCHECK_PATH || '/health/ready';
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 2000);

const request = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (response) => {
  response.resume();
  process.exitCode = response.statusCode >= 200 && response.statusCode < 300 ? 0 : 1;
});
request.on('timeout', () => request.destroy(new Error('timeout')));
request.on('error', () => {
  process.exitCode = 1;
});
