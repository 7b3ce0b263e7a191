import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

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

const fileError = (code: string, message: string) => Object.assign(new Error(message), { code });

/**
 * Reads a small regular file without trusting it: O_NONBLOCK so a FIFO cannot hang startup, fstat on the open
 * descriptor (no race with a swapped path) so /dev/zero, a FIFO or a directory is refused before reading, and never
 * more than MAX_FILE_BYTES + 1 bytes into memory, whatever the file claims or grows to.
 */
export const readSmallFile: FileReader = (path) => {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw fileError('ENOTREG', 'not a regular file');
    if (stat.size > MAX_FILE_BYTES) throw fileError('EFBIG', 'file too large');
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > MAX_FILE_BYTES) throw fileError('EFBIG', 'file too large');
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
};

function fileProblem(path: string, code: string): string {
  const file = JSON.stringify(path);
  if (code === 'ENOTREG') return `file ${file} is not a regular file`;
  if (code === 'EFBIG') return `file ${file} is larger than ${MAX_FILE_BYTES} bytes`;
  return `cannot read file ${file} (${code})`;
}

const isSet = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * Reads each variable from `NAME` or from the file named by `NAME_FILE`
 * (Docker/Compose secrets convention). File contents lose their trailing
 * newline(s). Setting both is an error, as is an unreadable, non-regular, oversized or empty file.
 * An empty NAME (or an empty NAME_FILE variable) counts as unset.
 */
export function readEnv(names: readonly string[], env: NodeJS.ProcessEnv = process.env, readFile: FileReader = readSmallFile): EnvReadResult {
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
        problems.push({ variable: fileVar, message: fileProblem(filePath, code) });
        continue;
      }
      if (Buffer.byteLength(content) > MAX_FILE_BYTES) {
        problems.push({ variable: fileVar, message: fileProblem(filePath, 'EFBIG') });
        continue;
      }
      const trimmed = content.replace(/(\r?\n)+$/, '');
      // A set but empty *_FILE is a mistake (a missing mount, an empty secret), never "unset": an empty API_KEY_FILE
      // would otherwise silently turn authentication off.
      if (trimmed.trim() === '') {
        problems.push({ variable: fileVar, message: `file ${JSON.stringify(filePath)} is empty` });
        continue;
      }
      values[name] = trimmed;
      continue;
    }
    if (isSet(direct)) values[name] = direct;
  }
  return { values, problems };
}
