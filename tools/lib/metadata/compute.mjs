// docker/metadata-action's tag and label computation, reimplemented (see tools/README.md for where we differ).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from '../errors.mjs';
import { dateHelper, isSingleExpression, renderTemplate } from './expressions.mjs';
import { compileRegex, parseFlavor, parseImages, parseLabels, parseTagRules } from './inputs.mjs';
import { toEntries } from './lists.mjs';
import { finalizeTag, normalizeImageName } from './names.mjs';
import { projectFacts } from './project.mjs';
import { resolveContext } from './context.mjs';
import { parsePep440, parseSemver } from './versions.mjs';

const DEFAULT_WORKSPACE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ALWAYS_DEFAULT_BRANCH_EVENTS = /create|discussion|issues|schedule/;

function resolveNow(now, env) {
  if (typeof now === 'function') now = now();
  if (now !== undefined && now !== null) {
    const date = now instanceof Date ? now : new Date(now);
    if (Number.isNaN(date.getTime())) throw new CliError(`invalid clock value "${now}"`);
    return date;
  }
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new CliError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${epoch}"`);
    return new Date(Number(epoch) * 1000);
  }
  return new Date();
}

function shortShaLength(env) {
  const raw = env.DOCKER_METADATA_SHORT_SHA_LENGTH;
  if (raw === undefined || raw === '') return 7;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 64) {
    throw new CliError(`DOCKER_METADATA_SHORT_SHA_LENGTH must be a number from 1 to 64, got "${raw}"`);
  }
  return Number(raw);
}

/** The global expressions of the action: branch, tag, sha, base_ref, is_default_branch, date, commit_date. */
function globalScope(ctx, now, shaLength) {
  const isDefaultBranch = () => {
    const branch = ctx.ref.replace(/^refs\/heads\//, '');
    if (!branch) return 'false';
    if (ctx.defaultBranch && ctx.defaultBranch === branch) return 'true';
    return ALWAYS_DEFAULT_BRANCH_EVENTS.test(ctx.eventName) ? 'true' : 'false';
  };
  return {
    branch: () => (ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice('refs/heads/'.length) : ''),
    tag: () => (ctx.ref.startsWith('refs/tags/') ? ctx.ref.slice('refs/tags/'.length) : ''),
    sha: () => {
      if (!ctx.sha) throw new CliError('{{sha}} needs the commit SHA (set GITHUB_SHA or run inside a git checkout)');
      return ctx.sha.slice(0, shaLength);
    },
    base_ref: () => {
      if (ctx.ref.startsWith('refs/tags/') && typeof ctx.payload?.base_ref === 'string') return ctx.payload.base_ref.replace(/^refs\/heads\//, '');
      if (ctx.ref.startsWith('refs/pull/') && typeof ctx.payload?.pull_request?.base?.ref === 'string') return ctx.payload.pull_request.base.ref;
      return '';
    },
    is_default_branch: isDefaultBranch,
    is_not_default_branch: () => (isDefaultBranch() === 'true' ? 'false' : 'true'),
    date: dateHelper(() => now, 'date'),
    commit_date: dateHelper(() => (ctx.commitDate ? new Date(ctx.commitDate) : now), 'commit_date'),
  };
}

/**
 * The tag value a rule produces in this context, before prefix/suffix: {value, latestAuto} or null (rule does not
 * apply). latestAuto is what flavor latest=auto decides when this rule gives the version.
 */
function ruleValue(rule, ctx, render, warn, shaLength) {
  const { type, attrs } = rule;
  const where = `tag rule "${rule.entry}"`;
  const tagRef = ctx.ref.startsWith('refs/tags/') ? ctx.ref.slice('refs/tags/'.length) : null;
  const branchRef = ctx.ref.startsWith('refs/heads/') ? ctx.ref.slice('refs/heads/'.length) : null;
  switch (type) {
    case 'schedule':
      return ctx.eventName === 'schedule' ? { value: render(attrs.pattern), latestAuto: false } : null;
    case 'semver':
    case 'pep440': {
      const custom = attrs.value ? render(attrs.value) : '';
      if (tagRef === null && !custom) return null;
      let raw = custom || tagRef;
      if (attrs.match) {
        const m = compileRegex(attrs.match, where).exec(raw);
        if (m) raw = m[1] ?? m[0];
        else warn(`${attrs.match} does not match ${raw}`);
      }
      raw = raw.replace(/\//g, '-');
      const info = type === 'semver' ? parseSemver(raw) : parsePep440(raw);
      if (!info) {
        warn(`${raw} is not a valid ${type === 'semver' ? 'semver' : 'PEP 440 version'}; ${where} skipped`);
        return null;
      }
      // Pre-releases (and PEP 440 post/dev releases) only ever get the full version (or {{raw}} when that is the pattern).
      const pattern = info.final || isSingleExpression(attrs.pattern, 'raw') ? attrs.pattern : '{{version}}';
      const scope = { raw: () => info.raw, version: () => info.version, major: () => info.major, minor: () => info.minor, patch: () => info.patch };
      return { value: render(pattern, scope), latestAuto: info.final };
    }
    case 'match': {
      const custom = attrs.value ? render(attrs.value) : '';
      if (tagRef === null && !custom) return null;
      const raw = custom || tagRef;
      const group = Number(attrs.group);
      const m = compileRegex(attrs.pattern, where).exec(raw);
      if (!m || m[group] === undefined) {
        warn(`${attrs.pattern} does not match ${raw}; ${where} skipped`);
        return null;
      }
      return { value: m[group], latestAuto: true };
    }
    case 'edge': {
      if (branchRef === null) return null;
      const branch = attrs.branch || ctx.defaultBranch;
      if (!branch) {
        throw new CliError(`${where} needs the default branch: set branch=..., or provide repository.default_branch in the event payload (GITHUB_EVENT_PATH)`);
      }
      return branch === branchRef ? { value: 'edge', latestAuto: false } : null;
    }
    case 'ref':
      if (attrs.event === 'branch') return branchRef === null ? null : { value: branchRef, latestAuto: false };
      if (attrs.event === 'tag') return tagRef === null ? null : { value: tagRef, latestAuto: true };
      if (!ctx.ref.startsWith('refs/pull/')) return null;
      return { value: ctx.ref.slice('refs/pull/'.length).replace(/\/merge$/, ''), latestAuto: false };
    case 'raw':
      return { value: render(attrs.value), latestAuto: false };
    case 'sha':
      if (!ctx.sha) throw new CliError(`${where} needs the commit SHA (set GITHUB_SHA or run inside a git checkout)`);
      return { value: attrs.format === 'long' ? ctx.sha : ctx.sha.slice(0, shaLength), latestAuto: false };
    default:
      throw new CliError(`unknown tag rule type "${type}"`);
  }
}

function enabled(template, render, where) {
  const value = render(template);
  if (value !== 'true' && value !== 'false') throw new CliError(`enable= must render to true or false, got "${value}" in ${where}`);
  return value === 'true';
}

/**
 * Computes tags and OCI labels like docker/metadata-action.
 * @param {object} [options]
 * @param {string|string[]} [options.images]  image names (list syntax of the action)
 * @param {string|string[]} [options.tags]    tag rules, one per line
 * @param {string|string[]} [options.flavor]  latest=auto|true|false, prefix=..,onlatest=.., suffix=..
 * @param {string|string[]} [options.labels]  custom labels key=value, override the generated ones
 * @param {string} [options.project]          Nx project whose package.json gives title/description/licenses
 * @param {string} [options.packageJson]      explicit package.json path instead of `project`
 * @param {string} [options.workspaceRoot]    where projects are looked up (default: this repository)
 * @param {import('./context.mjs').MetadataContext} [options.context]  skip env/git detection
 * @param {Record<string,string|undefined>} [options.env]  default process.env
 * @param {string} [options.cwd]              git checkout for the local fallback (default process.cwd())
 * @param {Date|number|string|(() => Date)} [options.now]  clock (default SOURCE_DATE_EPOCH, else now)
 * @returns {{version: string, tags: string[], tagNames: string[], latest: boolean, labels: Record<string,string>, warnings: string[], context: object}}
 */
export function computeMetadata(options = {}) {
  const env = options.env ?? process.env;
  const images = parseImages(toEntries(options.images));
  const rules = parseTagRules(toEntries(options.tags));
  const flavor = parseFlavor(toEntries(options.flavor));
  const customLabels = parseLabels(toEntries(options.labels));
  const ctx = options.context ?? resolveContext({ env, cwd: options.cwd ?? process.cwd() });
  const now = resolveNow(options.now, env);
  const shaLength = shortShaLength(env);
  const scope = globalScope(ctx, now, shaLength);
  const render = (template, extra) => renderTemplate(template, extra ? { ...scope, ...extra } : scope);
  const warnings = [];
  const warn = (message) => warnings.push(message);

  let main;
  let latest;
  const partial = [];
  for (const rule of rules) {
    if (!enabled(rule.attrs.enable, render, `tag rule "${rule.entry}"`)) continue;
    const produced = ruleValue(rule, ctx, render, warn, shaLength);
    if (produced === null) continue;
    const prefix = Object.hasOwn(rule.attrs, 'prefix') ? render(rule.attrs.prefix) : render(flavor.prefix);
    const suffix = Object.hasOwn(rule.attrs, 'suffix') ? render(rule.attrs.suffix) : render(flavor.suffix);
    const raw = `${prefix}${produced.value}${suffix}`;
    if (raw === '') continue;
    const tag = finalizeTag(raw);
    if (tag === '') {
      warn(`tag "${raw}" has no valid characters left; tag rule "${rule.entry}" skipped`);
      continue;
    }
    if (main === undefined) {
      main = tag;
      latest = flavor.latest === 'auto' ? produced.latestAuto : flavor.latest === 'true';
    } else if (tag !== main && !partial.includes(tag)) {
      partial.push(tag);
    }
  }

  const tagNames = [];
  if (main !== undefined) {
    tagNames.push(main, ...partial);
    if (latest) {
      const latestTag = finalizeTag(`${flavor.prefixOnLatest ? render(flavor.prefix) : ''}latest${flavor.suffixOnLatest ? render(flavor.suffix) : ''}`);
      if (!tagNames.includes(latestTag)) tagNames.push(latestTag);
    }
  }
  const names = [];
  for (const image of images) {
    if (!enabled(image.enable, render, `image "${image.name}"`)) continue;
    const name = normalizeImageName(image.name);
    if (!names.includes(name)) names.push(name);
  }
  const tags = [];
  for (const ref of names.length > 0 ? names.flatMap((n) => tagNames.map((t) => `${n}:${t}`)) : tagNames) {
    if (!tags.includes(ref)) tags.push(ref);
  }

  const facts = projectFacts({ workspaceRoot: options.workspaceRoot ?? DEFAULT_WORKSPACE_ROOT, project: options.project, packageJson: options.packageJson });
  const repo = ctx.payload?.repository ?? {};
  const generated = {
    'org.opencontainers.image.created': now.toISOString(),
    'org.opencontainers.image.description': facts ? facts.description : (repo.description ?? ''),
    'org.opencontainers.image.licenses': (facts?.licenses || repo.license?.spdx_id) ?? '',
    'org.opencontainers.image.revision': ctx.sha,
    'org.opencontainers.image.source': ctx.repoUrl,
    'org.opencontainers.image.title': facts ? facts.title : repo.name || ctx.repository.split('/').pop() || '',
    'org.opencontainers.image.url': ctx.repoUrl,
    'org.opencontainers.image.version': main ?? '',
  };
  const merged = Object.fromEntries(Object.entries(generated).filter(([, v]) => typeof v === 'string' && v !== ''));
  for (const [key, value] of customLabels) merged[key] = render(value);
  const labels = Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((k) => [k, merged[k]]),
  );

  return { version: main ?? '', tags, tagNames, latest: Boolean(latest) && tagNames.length > 0, labels, warnings, context: ctx };
}
