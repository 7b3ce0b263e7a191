// Where tags come from: the GitHub Actions environment (no API token: env vars + the event payload file), or,
// outside Actions, the local git checkout (event "push").
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { CliError } from '../errors.mjs';
import { $ } from '../process.mjs';

/**
 * @typedef {object} MetadataContext
 * @property {'github-actions'|'git'} origin
 * @property {string} eventName   e.g. push, pull_request, schedule
 * @property {string} ref         refs/heads/x, refs/tags/x, refs/pull/N/merge or ''
 * @property {string} sha         full commit SHA or ''
 * @property {string} repository  owner/name or ''
 * @property {string} repoUrl     web URL of the repository (source/url labels) or ''
 * @property {string} defaultBranch  '' when unknown
 * @property {string} commitDate  ISO date of the commit or ''
 * @property {object} payload     event payload ({} when none)
 */

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

function checkSha(sha, from) {
  if (sha && !SHA.test(sha)) throw new CliError(`${from} is not a full commit SHA: "${sha}"`);
  return sha ? sha.toLowerCase() : '';
}

function readPayload(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read GITHUB_EVENT_PATH ${path}: ${error.code ?? error.message}`);
  }
  try {
    const payload = JSON.parse(text);
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new Error('not an object');
    return payload;
  } catch {
    throw new CliError(`GITHUB_EVENT_PATH ${path} does not hold a JSON object`);
  }
}

/**
 * Reads the GitHub Actions context from environment variables (GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA,
 * GITHUB_REPOSITORY, GITHUB_SERVER_URL, GITHUB_EVENT_PATH). Returns null outside Actions (no GITHUB_EVENT_NAME and
 * no GITHUB_ACTIONS). pull_request_target is handled like the action: the ref becomes refs/pull/<number>/merge
 * (GITHUB_REF is the base branch there). DOCKER_METADATA_PR_HEAD_SHA=true uses the PR head SHA for PR events.
 * @param {Record<string,string|undefined>} env
 * @returns {MetadataContext|null}
 */
export function readGitHubContext(env = process.env) {
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  if (!eventName) {
    if (env.GITHUB_ACTIONS === 'true') throw new CliError('GITHUB_ACTIONS is set but GITHUB_EVENT_NAME is empty');
    return null;
  }
  const payload = env.GITHUB_EVENT_PATH ? readPayload(env.GITHUB_EVENT_PATH) : {};
  let ref = env.GITHUB_REF ?? '';
  let sha = checkSha(env.GITHUB_SHA ?? '', 'GITHUB_SHA');
  const repository = env.GITHUB_REPOSITORY || payload.repository?.full_name || '';
  if (repository && !/^[\w.-]+\/[\w.-]+$/.test(repository)) throw new CliError(`GITHUB_REPOSITORY must be owner/name, got "${repository}"`);
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');

  if (eventName === 'pull_request_target') {
    const number = payload.number ?? payload.pull_request?.number;
    if (!Number.isInteger(number)) {
      throw new CliError('pull_request_target needs the PR number from the event payload (GITHUB_EVENT_PATH with "number")');
    }
    ref = `refs/pull/${number}/merge`;
  }
  if (/^true$/i.test(env.DOCKER_METADATA_PR_HEAD_SHA ?? '') && eventName.startsWith('pull_request') && payload.pull_request?.head?.sha) {
    sha = checkSha(payload.pull_request.head.sha, 'pull_request.head.sha');
  }
  return {
    origin: 'github-actions',
    eventName,
    ref,
    sha,
    repository,
    repoUrl: payload.repository?.html_url || (repository ? `${serverUrl}/${repository}` : ''),
    defaultBranch: payload.repository?.default_branch ?? '',
    commitDate: payload.head_commit?.timestamp ?? '',
    payload,
  };
}

/** Trimmed output of a git command in `cwd`, or null when it fails (not a checkout, no such ref, no such folder). */
function git(cwd, args) {
  try {
    const output = $.sync({ cwd, nothrow: true })`git ${args}`;
    return output.ok ? output.stdout.trim() : null;
  } catch {
    return null;
  }
}

/** Web URL of a git remote, credentials removed; '' for anything that is not a host/owner/name remote. */
export function remoteWebUrl(remote) {
  if (!remote) return '';
  let host;
  let path;
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(remote);
  if (/^[a-z+]+:\/\//i.test(remote)) {
    let url;
    try {
      url = new URL(remote);
    } catch {
      return '';
    }
    if (!['http:', 'https:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:'].includes(url.protocol)) return '';
    host = url.hostname;
    path = url.pathname;
  } else if (scp) {
    [, host, path] = scp;
  } else {
    return '';
  }
  path = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  if (!host || !/^[\w.-]+(?:\/[\w.-]+)+$/.test(path)) return '';
  return `https://${host}/${path}`;
}

function pickTag(tags) {
  const valid = tags.filter((t) => semver.valid(t));
  if (valid.length > 0) return valid.sort((a, b) => semver.rcompare(a, b) || a.localeCompare(b))[0];
  return [...tags].sort()[0];
}

/** Web URL of the `repository` in the checkout's root package.json (for clones whose origin is a local path). */
function packageRepositoryUrl(root) {
  if (!root) return '';
  try {
    const { repository } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
    return remoteWebUrl(typeof repository === 'string' ? repository : (repository?.url ?? '').replace(/^git\+/, ''));
  } catch {
    return '';
  }
}

/**
 * Context from a local git checkout: event "push"; ref = a tag pointing at HEAD (highest semver first) if any, else
 * the current branch, else '' (detached); sha = HEAD. GITHUB_REF / GITHUB_SHA / GITHUB_REPOSITORY in `env`, when
 * set, override what git says. Outside a git checkout every field is empty (only rules needing them fail).
 * @returns {MetadataContext}
 */
export function readGitContext({ cwd = process.cwd(), env = process.env } = {}) {
  const inRepo = git(cwd, ['rev-parse', '--is-inside-work-tree']) === 'true';
  let sha = '';
  let ref = '';
  let commitDate = '';
  let remoteUrl = '';
  let defaultBranch = '';
  if (inRepo) {
    sha = git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']) ?? '';
    if (sha) {
      const tags = (git(cwd, ['tag', '--points-at', 'HEAD']) ?? '').split('\n').filter(Boolean);
      const branch = git(cwd, ['symbolic-ref', '-q', 'HEAD']);
      if (tags.length > 0) ref = `refs/tags/${pickTag(tags)}`;
      else if (branch) ref = branch;
      commitDate = git(cwd, ['log', '-1', '--format=%cI', 'HEAD']) ?? '';
    }
    remoteUrl = remoteWebUrl(git(cwd, ['remote', 'get-url', 'origin']) ?? '') || packageRepositoryUrl(git(cwd, ['rev-parse', '--show-toplevel']));
    const originHead = git(cwd, ['symbolic-ref', '-q', 'refs/remotes/origin/HEAD']);
    defaultBranch = originHead ? originHead.replace(/^refs\/remotes\/origin\//, '') : (git(cwd, ['config', 'init.defaultBranch']) ?? '');
  }
  if (env.GITHUB_REF) ref = env.GITHUB_REF;
  if (env.GITHUB_SHA) sha = env.GITHUB_SHA;
  sha = checkSha(sha, env.GITHUB_SHA ? 'GITHUB_SHA' : 'git HEAD');
  let repository = env.GITHUB_REPOSITORY ?? '';
  if (!repository && remoteUrl) repository = new URL(remoteUrl).pathname.slice(1);
  let repoUrl = remoteUrl;
  if (env.GITHUB_REPOSITORY) repoUrl = `${(env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')}/${env.GITHUB_REPOSITORY}`;
  const name = repository.split('/').pop() ?? '';
  return {
    origin: 'git',
    eventName: 'push',
    ref,
    sha,
    repository,
    repoUrl,
    defaultBranch,
    commitDate,
    payload: { repository: { name, default_branch: defaultBranch || undefined } },
  };
}

/** GitHub Actions context when running there, else the local git context. */
export function resolveContext({ env = process.env, cwd = process.cwd() } = {}) {
  return readGitHubContext(env) ?? readGitContext({ cwd, env });
}
