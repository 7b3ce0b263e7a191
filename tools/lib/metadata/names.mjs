// Image names (distribution reference grammar, lower-cased like the action) and tag names (sanitised like the
// action, plus the OCI rules the action leaves to the registry: at most 128 characters, no leading '.' or '-').
import { createHash } from 'node:crypto';
import { CliError } from '../errors.mjs';

const DOMAIN_COMPONENT = '(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_NAME = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

export const MAX_TAG_LENGTH = 128;

/** Lower-cases and validates an image name (no tag, no digest). Throws CliError when invalid. */
export function normalizeImageName(name) {
  const lower = name.trim().toLowerCase();
  if (lower.length > 255 || !IMAGE_NAME.test(lower)) {
    throw new CliError(`invalid image name "${name}" (expected e.g. ghcr.io/owner/app, without tag or digest)`);
  }
  return lower;
}

/**
 * Makes a valid OCI tag: runs of characters outside [a-zA-Z0-9._-] become '-' (the action's sanitisation), leading
 * '.'/'-' are removed, and a tag longer than 128 characters keeps its first 119 characters plus '-' and 8 hex
 * characters of the SHA-256 of the whole sanitised tag (deterministic, and distinct tags stay distinct).
 * @returns {string} '' when nothing valid is left
 */
export function finalizeTag(value) {
  let tag = value.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  if (tag.length > MAX_TAG_LENGTH) {
    const hash = createHash('sha256').update(tag).digest('hex').slice(0, 8);
    tag = `${tag.slice(0, MAX_TAG_LENGTH - 9)}-${hash}`;
  }
  return tag;
}
