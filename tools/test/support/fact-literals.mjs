// "Each fact once": the literals of facts that have one home (tools/lib/defaults.cjs, .node-version, each service's
// apps/<name>/project.json) found anywhere else in shipped files. Shipped = tracked, minus tests, fixtures, docs and
// the files the sync generator writes (they say so at their top and are regenerated from those homes).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED } from '../../nx-plugin/src/generators/sync/header.js';

const NOT_SHIPPED = [
  /(^|\/)test\//,
  /(^|\/)tests?\.[^/]*$/,
  /\.(spec|test)\.[cm]?[jt]s$/,
  /(^|\/)fixtures\//,
  /(^|\/)src\/testing\//,
  /\.md$/,
  /^package-lock\.json$/,
  /(^|\/)dev-secrets\//,
  /\.(png|jpg|gz|tar)$/,
];
const GENERATED_MARK = GENERATED[0].split('<source>')[0].trim();

/** Tracked files of `root` that ship (see above). */
export function shippedFiles(root) {
  return execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .filter((file) => !NOT_SHIPPED.some((pattern) => pattern.test(file)));
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The facts and where each may be stated: { fact, pattern, home: [files where it may appear] }.
 * @param {{ imagePrefix: string, composeProject: string, nodeVersion: string, services: {name, port, root}[] }} facts
 */
export function factRules({ imagePrefix, composeProject, nodeVersion, services }) {
  return [
    // an image reference under the prefix (not an npm scope @x/, not a registry path .../x/)
    { fact: `image prefix "${imagePrefix}/"`, pattern: new RegExp(`(?<![\\w@./-])${escape(imagePrefix)}/`), home: ['tools/lib/defaults.cjs'] },
    // the compose project as a quoted value in code (`-p <name>` in comments of generated files is theirs)
    { fact: `compose project name "${composeProject}"`, pattern: new RegExp(`(['"\`])${escape(composeProject)}\\1`), home: ['tools/lib/defaults.cjs'] },
    { fact: `Node.js version ${nodeVersion}`, pattern: new RegExp(`(?<![\\d.])${escape(nodeVersion)}(?![\\d.])`), home: ['.node-version'] },
    // who parses .node-version: a quoted path to it in code
    { fact: '.node-version parsing', pattern: /(['"])[^'"]*\.node-version\1/, home: ['tools/lib/node-version.cjs'], code: true },
    ...services.map((s) => ({ fact: `${s.name}'s port ${s.port}`, pattern: new RegExp(`(?<![\\d.])${s.port}(?![\\d])`), home: [`${s.root}/project.json`] })),
  ];
}

const CODE = /\.(c|m)?[jt]s$/;

/**
 * Every line of the shipped files that states a fact outside its home: ["file:line: <fact> (…text…)"].
 * `allowed` maps "file" to a reason (a file that cannot import, e.g. a Dockerfile's ARG default).
 */
export function repeatedFacts(root, rules, { files = shippedFiles(root), allowed = {} } = {}) {
  const found = [];
  for (const file of files) {
    if (allowed[file]) continue;
    let text;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue;
    }
    if (text.slice(0, 400).includes(GENERATED_MARK)) continue;
    const lines = text.split('\n');
    for (const rule of rules) {
      if (rule.home.includes(file) || (rule.code && !CODE.test(file))) continue;
      lines.forEach((line, i) => {
        if (rule.pattern.test(line)) found.push(`${file}:${i + 1}: ${rule.fact} (${line.trim().slice(0, 100)})`);
      });
    }
  }
  return found;
}
