// The few registry HTTP API v2 calls the publish flow needs, with fetch: read a manifest, put one (by digest or under a
// tag), upload a blob, assemble a multi-platform index. Tagging is a PUT of the same manifest bytes under another name,
// so a tag always names the digest that was scanned, never a rebuild. Blobs go up as the OCI distribution spec's
// monolithic upload (POST a session, PUT the bytes with their digest), streamed: push sends BuildKit's own bytes.
// Credentials: the ones `docker login` stored in ~/.docker/config.json or its credential helper (basic auth, exchanged
// for a bearer token when the registry asks for one, as GHCR does); never printed. Plain HTTP only for loopback
// registries (127.0.0.0/8, localhost), as Docker.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail } from './errors.mjs';
import { $ } from './process.mjs';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
};
const ACCEPT = Object.values(MEDIA_TYPES).join(', ');
const TIMEOUT_MS = 60_000;

/** `host[:port]/path/name[:tag|@digest]` -> {host, repository, reference}. */
export function parseImageRef(ref) {
  const match = /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9._/-]+?)(?:@(sha256:[0-9a-f]{64})|:([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/.exec(ref ?? '');
  if (!match) fail(`'${ref}' is not an image reference with a registry host (host[:port]/name[:tag|@sha256:...])`);
  return { host: match[1], repository: match[2], reference: match[3] ?? match[4] ?? 'latest' };
}

const isLoopback = (host) => /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
export const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * docker login's credentials for `host` as basic auth, or null: config.json's `auths` (what docker/login-action
 * writes on a runner), else the credential helper it names for the host (`credHelpers`, `credsStore`: Docker
 * Desktop's keychains), as `docker push` itself would find them.
 */
async function dockerCredentials(host) {
  const file = path.join(process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
  if (!existsSync(file)) return null;
  let config;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const auth = config.auths?.[host]?.auth;
  if (auth) return `Basic ${auth}`;
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (!helper || !/^[A-Za-z0-9._-]+$/.test(helper)) return null;
  // never echoed, whatever TOOLS_VERBOSE says: the helper's answer is the secret
  const answer = await $({ input: host, nothrow: true, timeout: '20s', verbose: false, quiet: true })`${`docker-credential-${helper}`} get`;
  if (!answer.ok) return null;
  try {
    const { Username: user, Secret: secret } = JSON.parse(answer.stdout);
    // the user '<token>' marks an identity token, which only a token endpoint's OAuth flow takes, not basic auth
    if (!user || !secret || user === '<token>') return null;
    return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
  } catch {
    return null;
  }
}

/** The start of an error response's body (the registry's own error code and message), on one line. */
async function reason(response) {
  const text = await response.text().catch(() => '');
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** A client for one registry host. */
export function registryClient(host) {
  const base = `${isLoopback(host) ? 'http' : 'https'}://${host}/v2`;
  // read once, when the registry first asks for credentials (a helper may prompt or be slow)
  let basicCredential;
  const basicAuth = async () => (basicCredential ??= dockerCredentials(host));
  const tokens = new Map();

  async function token(challenge, scope) {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) return null;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', scope);
    const basic = await basicAuth();
    const response = await fetch(url, { headers: basic ? { Authorization: basic } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) fail(`registry ${host}: token request failed (HTTP ${response.status}); log in with docker login ${host}`, 1);
    const body = await response.json();
    return `Bearer ${body.token ?? body.access_token}`;
  }

  /**
   * One call, authenticated as the registry asks (a bearer token for the scope, or docker login's basic auth); the
   * credential that worked is kept for the scope. `url` (instead of `pathname`) is an upload session's Location,
   * which may be absolute: credentials only go to this registry's own origin. A streamed body cannot be sent twice,
   * so it goes out `once`, with the credential an earlier call of the same scope got (the upload's POST).
   */
  async function request(method, repository, pathname, { body, headers = {}, push = false, url, once = false, timeout = TIMEOUT_MS } = {}) {
    const scope = `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
    const target = url ? new URL(url, base) : new URL(`${base}/${repository}${pathname}`);
    const own = target.origin === new URL(base).origin;
    const what = `${method} ${pathname ?? target.pathname}`;
    const send = (authorization) =>
      fetch(target, {
        method,
        body,
        ...(body && typeof body !== 'string' && !Buffer.isBuffer(body) ? { duplex: 'half' } : {}),
        headers: { ...headers, ...(authorization && own ? { Authorization: authorization } : {}) },
        signal: AbortSignal.timeout(timeout),
      }).catch((error) => fail(`registry ${host}: ${what} failed: ${error.cause?.code ?? error.cause?.message ?? error.message}`, 1));
    let response = await send(tokens.get(scope) ?? null);
    if (once || response.status !== 401) return response;
    const challenge = response.headers.get('www-authenticate') ?? '';
    let credential = null;
    if (/^bearer/i.test(challenge)) credential = await token(challenge, scope);
    else credential = await basicAuth();
    if (!credential) return response;
    response = await send(credential);
    if (response.status !== 401) tokens.set(scope, credential);
    return response;
  }

  return {
    host,
    /** {mediaType, digest, bytes, json} of a manifest (by tag or digest); null when it does not exist. */
    async getManifest(repository, reference) {
      const response = await request('GET', repository, `/manifests/${reference}`, { headers: { Accept: ACCEPT } });
      if (response.status === 404) return null;
      if (!response.ok) fail(`registry ${host}: GET ${repository} manifest ${reference}: HTTP ${response.status}`, 1);
      const bytes = Buffer.from(await response.arrayBuffer());
      const json = JSON.parse(bytes.toString('utf8'));
      return { mediaType: json.mediaType ?? response.headers.get('content-type'), digest: sha256(bytes), bytes, json };
    },
    /** The bytes of a blob (config or layer), checked against its digest; null when the registry has none. */
    async findBlob(repository, digest) {
      const response = await request('GET', repository, `/blobs/${digest}`);
      if (response.status === 404) return null;
      if (!response.ok) fail(`registry ${host}: GET ${repository} blob ${digest}: HTTP ${response.status}`, 1);
      const bytes = Buffer.from(await response.arrayBuffer());
      if (sha256(bytes) !== digest) fail(`registry ${host}: ${repository} blob ${digest} does not match its digest`, 1);
      return bytes;
    },
    /** The bytes of a blob that must exist. */
    async getBlob(repository, digest) {
      return (await this.findBlob(repository, digest)) ?? fail(`registry ${host}: GET ${repository} blob ${digest}: HTTP 404`, 1);
    },
    /** A JSON blob (an image config) by digest; null when it does not exist. */
    async getBlobJson(repository, digest) {
      const bytes = await this.findBlob(repository, digest);
      return bytes && JSON.parse(bytes.toString('utf8'));
    },
    /** Whether the repository has the blob already (then an upload is skipped: same digest, same bytes). */
    async hasBlob(repository, digest) {
      // the push scope, as the upload that follows: one token for both
      const response = await request('HEAD', repository, `/blobs/${digest}`, { push: true });
      if (response.status === 404) return false;
      if (!response.ok) fail(`registry ${host}: HEAD ${repository} blob ${digest}: HTTP ${response.status}`, 1);
      return true;
    },
    /**
     * Uploads one blob in a single PUT (the distribution spec's monolithic upload): `body` is a stream or iterable
     * of exactly `size` bytes hashing to `digest`, sent as it is read, never buffered; the registry checks the digest.
     */
    async uploadBlob(repository, { digest, size, body }) {
      const started = await request('POST', repository, '/blobs/uploads/', { push: true, headers: { 'Content-Length': '0' } });
      const location = started.headers.get('location');
      if (started.status !== 202 || !location)
        fail(`registry ${host}: cannot start a blob upload to ${repository}: HTTP ${started.status} ${await reason(started)}`, 1);
      const url = new URL(location, base);
      url.searchParams.set('digest', digest);
      const put = await request('PUT', repository, undefined, {
        url,
        body,
        once: true,
        push: true,
        // a layer of hundreds of MB on a slow link: the upload's own clock, not the API calls' minute
        timeout: Math.max(TIMEOUT_MS, Math.ceil(size / 1024)),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) },
      });
      if (put.status !== 201) fail(`registry ${host}: upload of ${digest} to ${repository} refused: HTTP ${put.status} ${await reason(put)}`, 1);
      const stored = put.headers.get('docker-content-digest');
      if (stored && stored !== digest) fail(`registry ${host}: ${repository} stored the upload of ${digest} as ${stored}`, 1);
      return digest;
    },
    /** PUTs manifest bytes under a tag or their digest; returns the digest the registry stored. */
    async putManifest(repository, reference, bytes, mediaType) {
      const response = await request('PUT', repository, `/manifests/${reference}`, { body: bytes, headers: { 'Content-Type': mediaType }, push: true });
      if (!response.ok) fail(`registry ${host}: PUT ${repository}:${reference}: HTTP ${response.status} ${await reason(response)}`, 1);
      const stored = response.headers.get('docker-content-digest') ?? sha256(bytes);
      if (stored !== sha256(bytes)) fail(`registry ${host}: ${repository}:${reference} was stored as ${stored}, not ${sha256(bytes)}`, 1);
      return stored;
    },
  };
}

/**
 * The multi-platform index for per-platform manifests ({platform: 'os/arch[/variant]', digest, mediaType, size}).
 * Docker-format manifests go into a Docker manifest list, OCI ones into an OCI index (what clients expect of each).
 */
export function imageIndex(manifests) {
  const docker = manifests.every((m) => m.mediaType === MEDIA_TYPES.dockerManifest);
  const mediaType = docker ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex;
  const json = {
    schemaVersion: 2,
    mediaType,
    manifests: manifests.map(({ platform, digest, mediaType: type, size }) => {
      const [osName, architecture, variant] = platform.split('/');
      return { mediaType: type, digest, size, platform: { architecture, os: osName, ...(variant ? { variant } : {}) } };
    }),
  };
  const bytes = Buffer.from(JSON.stringify(json, null, 2));
  return { mediaType, bytes, digest: sha256(bytes), json };
}
