// What `up` and `status` print for each service: its URL on 127.0.0.1 and a request to try.
import path from 'node:path';

/** A first request worth trying per known service (GUIDE/CONTRACT API); anything else gets its health endpoint. */
const SAMPLES = {
  catalog: { method: 'GET', path: '/products' },
  orders: { method: 'POST', path: '/orders', body: { productId: 'p-1', quantity: 2 } },
  notifications: { method: 'POST', path: '/notifications', body: { recipient: 'dev@example.com', channel: 'email', message: 'hello' } },
};

/** The host URL of a service's published port (loopback only, as the compose files publish them). */
export function serviceUrl(container) {
  const binding = container?.ports?.find((p) => p.hostPort) ?? null;
  if (!binding) return null;
  const host = !binding.hostIp || binding.hostIp === '0.0.0.0' ? '127.0.0.1' : binding.hostIp;
  return `http://${host.includes(':') ? `[${host}]` : host}:${binding.hostPort}`;
}

/** Host path of the secret file a service reads its API key from (never the key itself), from the resolved config. */
export function apiKeyFile(config, service) {
  const environment = config.services?.[service]?.environment ?? {};
  const inContainer = Array.isArray(environment)
    ? environment.find((e) => e.startsWith('API_KEY_FILE='))?.slice('API_KEY_FILE='.length)
    : environment.API_KEY_FILE;
  const match = /^\/run\/secrets\/(.+)$/.exec(inContainer ?? '');
  const file = match ? config.secrets?.[match[1]]?.file : undefined;
  if (!file) return null;
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

const shellQuote = (value) => `'${String(value).replace(/'/g, `'\\''`)}'`;

/** A copy-pasteable curl command for a service. */
export function sampleCurl(service, url, keyFile) {
  const sample = SAMPLES[service] ?? { method: 'GET', path: '/health' };
  const parts = ['curl', '-sS'];
  if (sample.method !== 'GET') parts.push('-X', sample.method);
  if (sample.method !== 'GET' && keyFile) parts.push('-H', `"Authorization: Bearer $(cat ${shellQuote(keyFile)})"`);
  if (sample.body) parts.push('-H', shellQuote('content-type: application/json'), '-d', shellQuote(JSON.stringify(sample.body)));
  parts.push(`${url}${sample.path}`);
  return parts.join(' ');
}
