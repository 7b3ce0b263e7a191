'use strict';
// Build-stage helper: keeps in package.json only the packages the bundle actually requires.
// Nx lists every external dependency of every library a service imports (e.g. express for a fastify service,
// through a library a service imports); `npm prune` then removes what is no longer needed.
const fs = require('node:fs');

const [bundle = 'main.js', manifest = 'package.json'] = process.argv.slice(2);
const source = fs.readFileSync(bundle, 'utf8');
const required = new Set();
for (const [, specifier] of source.matchAll(/require\(["']([^"'./][^"']*)["']\)/g)) {
  if (specifier.startsWith('node:')) continue;
  const parts = specifier.split('/');
  required.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
}
const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
const dropped = Object.keys(pkg.dependencies ?? {}).filter((name) => !required.has(name));
for (const name of dropped) delete pkg.dependencies[name];
fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`dependencies used by ${bundle}: ${Object.keys(pkg.dependencies ?? {}).join(', ') || 'none'}; dropped: ${dropped.join(', ') || 'none'}`);
