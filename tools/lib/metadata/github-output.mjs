// Step outputs for GitHub Actions: appended to $GITHUB_OUTPUT in the multi-line syntax with a random delimiter.
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

/** Formats outputs as `name<<DELIM\nvalue\nDELIM\n` blocks (a delimiter never occurs in its value). */
export function formatGitHubOutputs(outputs) {
  let text = '';
  for (const [name, value] of Object.entries(outputs)) {
    const str = String(value);
    let delimiter;
    do delimiter = `ghadelimiter_${randomUUID()}`;
    while (str.includes(delimiter));
    text += `${name}<<${delimiter}\n${str}\n${delimiter}\n`;
  }
  return text;
}

/** Appends outputs to the file named by GITHUB_OUTPUT (no-op when unset). */
export function writeGitHubOutputs(outputs, env = process.env) {
  if (!env.GITHUB_OUTPUT) return false;
  appendFileSync(env.GITHUB_OUTPUT, formatGitHubOutputs(outputs));
  return true;
}
