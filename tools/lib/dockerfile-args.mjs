// Reads the global ARG defaults of a Dockerfile (the upstream image refs live there, pinned to exact versions).
import { readFileSync } from 'node:fs';
import { DockerfileParser } from 'dockerfile-ast';

/** @returns {Record<string, string>} ARG name -> default value, for ARGs that declare one. */
export function dockerfileArgDefaults(file) {
  const dockerfile = DockerfileParser.parse(readFileSync(file, 'utf8'));
  const defaults = {};
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() !== 'ARG') continue;
    const [first] = instruction.getArguments();
    if (!first) continue;
    const text = first.getValue();
    const eq = text.indexOf('=');
    if (eq > 0 && !(text.slice(0, eq) in defaults)) defaults[text.slice(0, eq)] = text.slice(eq + 1).replace(/^"(.*)"$/, '$1');
  }
  return defaults;
}
