// Input lists in docker/metadata-action's syntax: one entry per line (blank lines and `#` comment lines ignored),
// each entry a CSV record of fields (csv-parse), a field being `key=value` (split at the first `=`) or a bare value.
import { parse } from 'csv-parse/sync';
import { CliError } from '../errors.mjs';

/**
 * Entries of a list input: a newline-separated string, or an array of such strings (e.g. repeated CLI flags).
 * @param {string|string[]|undefined|null} input
 * @returns {string[]}
 */
export function toEntries(input) {
  if (input == null) return [];
  const chunks = Array.isArray(input) ? input : [input];
  const entries = [];
  for (const chunk of chunks) {
    if (chunk == null) continue;
    if (typeof chunk !== 'string') throw new CliError(`expected a list of strings, got ${typeof chunk}`);
    for (const line of chunk.split(/\r?\n/)) {
      const entry = line.trim();
      if (entry !== '' && !entry.startsWith('#')) entries.push(entry);
    }
  }
  return entries;
}

/**
 * Fields of one CSV record, parsed by csv-parse (the parser docker/metadata-action uses, with its relaxed quotes):
 * double quotes protect commas (`"pattern=\d{1,3}"`), `""` inside quotes is a quote, a quote inside a field is text.
 * Fields are trimmed; empty fields (e.g. a trailing comma) are dropped.
 * @param {string} entry
 * @returns {string[]}
 */
export function csvFields(entry) {
  let records;
  try {
    records = parse(entry, { relax_quotes: true, relax_column_count: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') throw new CliError(`unterminated quote in "${entry}"`);
    throw new CliError(`malformed list entry "${entry}": ${String(error.message).split('\n')[0]}`);
  }
  // trimmed inside quotes too, as the action trims each field after parsing
  return records
    .flat()
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

/**
 * Splits `key=value` at the first `=`. A field without `=` gives key null (a bare value).
 * @returns {[string|null, string]}
 */
export function splitKeyValue(field, where) {
  const eq = field.indexOf('=');
  if (eq < 0) return [null, field];
  const key = field.slice(0, eq).trim();
  if (key === '') throw new CliError(`malformed attribute "${field}" in ${where}`);
  return [key.toLowerCase(), field.slice(eq + 1).trim()];
}
