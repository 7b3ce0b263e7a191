'use strict';
// Build-stage guard: production dependencies are installed on the build platform (npm ci --ignore-scripts) and copied
// into an image for any target architecture, which is only correct for pure JavaScript. A package with a native addon
// (binding.gyp, a compiled *.node file, a prebuilds/ tree) or an install script (preinstall, install, postinstall:
// their output would be missing, or built for the wrong architecture) fails the build with the list of offenders.
// Usage: node check-portable-deps.cjs [node_modules]   (exit 1 and one line per offender when something is not portable)
const fs = require('node:fs');
const path = require('node:path');

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Every package directory under a node_modules tree (scoped and nested ones included). */
function packageDirs(root) {
  const dirs = [];
  const visit = (modules) => {
    if (!fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dir = path.join(modules, entry.name);
      if (entry.name.startsWith('@')) visit(dir);
      else {
        dirs.push(dir);
        visit(path.join(dir, 'node_modules'));
      }
    }
  };
  visit(root);
  return dirs;
}

/** Native or install-time parts of one package, as short reasons ('binding.gyp', 'script postinstall', ...). */
function nativeParts(dir) {
  const reasons = [];
  let manifest = {};
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    return reasons;
  }
  for (const script of INSTALL_SCRIPTS) if (manifest.scripts?.[script]) reasons.push(`install script '${script}'`);
  if (manifest.gypfile) reasons.push('gypfile');
  const walk = (current, depth) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'prebuilds') reasons.push(`${path.relative(dir, full)}/`);
        else if (depth < 8) walk(full, depth + 1);
      } else if (entry.name === 'binding.gyp' || entry.name.endsWith('.node')) reasons.push(path.relative(dir, full));
    }
  };
  walk(dir, 0);
  return reasons;
}

function check(root) {
  const offenders = [];
  for (const dir of packageDirs(root)) {
    const reasons = nativeParts(dir);
    if (reasons.length) offenders.push(`${path.relative(root, dir)}: ${[...new Set(reasons)].join(', ')}`);
  }
  return offenders;
}

module.exports = { check };

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? 'node_modules');
  const offenders = check(root);
  if (offenders.length) {
    for (const line of offenders) console.error(`error: not portable across architectures: ${line}`);
    console.error(
      'error: production dependencies must be pure JavaScript without install scripts (they are installed on the build platform for every target architecture)',
    );
    process.exit(1);
  }
  console.log(`portable: ${packageDirs(root).length} packages, no native addon or install script`);
}
