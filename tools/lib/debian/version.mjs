// Debian version ordering as dpkg defines it (deb-version(7)): [epoch:]upstream[-revision], compared epoch first,
// then upstream and revision by alternating non-digit runs (letters sort before non-letters, '~' before everything,
// even the end of the string) and numeric runs. Written here because no well-kept npm package does this; the tests
// check it against cases dpkg --compare-versions decides.

const order = (char) => {
  if (char === undefined) return 0;
  if (char === '~') return -1;
  if (/[A-Za-z]/.test(char)) return char.charCodeAt(0);
  return char.charCodeAt(0) + 256;
};

function comparePart(a, b) {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // non-digit prefix, character by character
    while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
      const ca = i < a.length && !/\d/.test(a[i]) ? a[i] : undefined;
      const cb = j < b.length && !/\d/.test(b[j]) ? b[j] : undefined;
      const diff = order(ca) - order(cb);
      if (diff) return Math.sign(diff);
      if (ca !== undefined) i++;
      if (cb !== undefined) j++;
    }
    // numeric run, compared as numbers (leading zeros ignored)
    let na = '';
    let nb = '';
    while (i < a.length && /\d/.test(a[i])) na += a[i++];
    while (j < b.length && /\d/.test(b[j])) nb += b[j++];
    na = na.replace(/^0+/, '');
    nb = nb.replace(/^0+/, '');
    if (na.length !== nb.length) return Math.sign(na.length - nb.length);
    if (na !== nb) return na < nb ? -1 : 1;
  }
  return 0;
}

/** Splits `[epoch:]upstream[-revision]`; throws on what dpkg would reject (empty, spaces, bad epoch). */
export function parseDebianVersion(version) {
  const text = String(version ?? '').trim();
  const match = /^(?:(\d+):)?([0-9][A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$/.exec(text);
  if (!match) throw new Error(`'${text}' is not a Debian version`);
  return { epoch: Number(match[1] ?? 0), upstream: match[2], revision: match[3] ?? '0' };
}

/** -1, 0 or 1, like `dpkg --compare-versions a lt|eq|gt b`. */
export function compareDebianVersions(a, b) {
  const va = parseDebianVersion(a);
  const vb = parseDebianVersion(b);
  if (va.epoch !== vb.epoch) return Math.sign(va.epoch - vb.epoch);
  return comparePart(va.upstream, vb.upstream) || comparePart(va.revision, vb.revision);
}
