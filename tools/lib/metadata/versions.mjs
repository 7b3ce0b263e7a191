// Version parsing for type=semver (via the `semver` package) and type=pep440 (PEP 440 public grammar, Appendix B).
import semver from 'semver';

/**
 * @typedef {{raw: string, version: string, major: string, minor: string, patch: string, final: boolean}} VersionInfo
 * `final` is false for pre-releases (semver) and pre/post/dev releases (PEP 440): those only ever get the full version.
 */

/** @returns {VersionInfo|null} null when `raw` is not a valid semver (a leading `v` is allowed). */
export function parseSemver(raw) {
  const v = semver.parse(raw);
  if (!v) return null;
  return {
    raw,
    version: v.version,
    major: String(v.major),
    minor: String(v.minor),
    patch: String(v.patch),
    final: v.prerelease.length === 0,
  };
}

const PEP440 = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<preL>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?<preN>[0-9]+)?)?' +
    '(?<post>(?:-(?<postN1>[0-9]+))|(?:[-_.]?(?<postL>post|rev|r)[-_.]?(?<postN2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<devL>dev)[-_.]?(?<devN>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

const PRE_NAMES = { a: 'a', alpha: 'a', b: 'b', beta: 'b', c: 'rc', rc: 'rc', pre: 'rc', preview: 'rc' };
const int = (s) => String(Number.parseInt(s ?? '0', 10));

/** @returns {VersionInfo|null} null when `raw` is not a PEP 440 version. `version` is the normalised form. */
export function parsePep440(raw) {
  const m = PEP440.exec(raw);
  if (!m) return null;
  const g = m.groups;
  const release = g.release.split('.').map(int);
  let version = '';
  if (g.epoch !== undefined && int(g.epoch) !== '0') version += `${int(g.epoch)}!`;
  version += release.join('.');
  if (g.pre) version += `${PRE_NAMES[g.preL.toLowerCase()]}${int(g.preN)}`;
  if (g.post) version += `.post${int(g.postN1 ?? g.postN2)}`;
  if (g.dev) version += `.dev${int(g.devN)}`;
  if (g.local) version += `+${g.local.toLowerCase().replace(/[-_]/g, '.')}`;
  return {
    raw,
    version,
    major: release[0],
    minor: release[1] ?? '0',
    patch: release[2] ?? '0',
    final: !g.pre && !g.post && !g.dev,
  };
}
