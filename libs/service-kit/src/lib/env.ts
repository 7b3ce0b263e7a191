import { readFileSync } from 'node:fs';

/** A problem found while reading one variable (before schema validation). */
export interface EnvProblem {
  variable: string;
  message: string;
}

export interface EnvReadResult {
  /** Raw string values keyed by variable name; unset (or empty) variables are absent. */
  values: Record<string, string>;
  /** Variables whose value could not be read at all (conflict, unreadable file). */
  problems: EnvProblem[];
}

export type FileReader = (path: string) => string;

/** Secret files are small; refuse anything bigger than this. */
export const MAX_FILE_BYTES = 64 * 1024;

const defaultReadFile: FileReader = (path) => readFileSync(path, 'utf8');

const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * Reads each variable from `NAME` or from the file named by `NAME_FILE`
 * (Docker/Compose secrets convention). File contents lose their trailing
 * newline(s). Setting both is an error, as is an unreadable file.
 * An empty string counts as unset.
 */
export function readEnv(
  names: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  readFile: FileReader = defaultReadFile,
): EnvReadResult {
  const values: Record<string, string> = {};
  const problems: EnvProblem[] = [];
  for (const name of names) {
    const fileVar = `${name}_FILE`;
    const direct = env[name];
    const filePath = env[fileVar];
    if (isSet(direct) && isSet(filePath)) {
      problems.push({ variable: name, message: `both ${name} and ${fileVar} are set; set only one` });
      continue;
    }
    if (isSet(filePath)) {
      let content: string;
      try {
        content = readFile(filePath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'read error';
        problems.push({ variable: fileVar, message: `cannot read file ${JSON.stringify(filePath)} (${code})` });
        continue;
      }
      if (Buffer.byteLength(content) > MAX_FILE_BYTES) {
        problems.push({ variable: fileVar, message: `file ${JSON.stringify(filePath)} is larger than ${MAX_FILE_BYTES} bytes` });
        continue;
      }
      const trimmed = content.replace(/(\r?\n)+$/, '');
      if (trimmed !== '') values[name] = trimmed;
      continue;
    }
    if (isSet(direct)) values[name] = direct;
  }
  return { values, problems };
}
