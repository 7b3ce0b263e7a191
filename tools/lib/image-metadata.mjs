// Tags and OCI labels for an image build, from tools/docker-metadata.mjs (docker/metadata-action semantics).
// Locally, with no rules given, an image gets the stable tag `local` (what compose files and tests use) and `sha-<short>`.
import { execFileSync } from 'node:child_process';
import { computeMetadata, MetadataError } from '../docker-metadata.mjs';
import { fail } from './cli.mjs';
import { workspaceRoot } from './workspace.mjs';

export const LOCAL_TAG_RULES = 'type=raw,value=local\ntype=sha';

/**
 * Outside GitHub Actions the `created` label is the commit time (unless SOURCE_DATE_EPOCH says otherwise), so
 * rebuilding an unchanged checkout yields the identical image ID instead of a new one every run.
 */
function reproducibleEnv(env) {
  if (env.SOURCE_DATE_EPOCH || env.GITHUB_ACTIONS === 'true') return env;
  try {
    const epoch = execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: workspaceRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^\d+$/.test(epoch) ? { ...env, SOURCE_DATE_EPOCH: epoch } : env;
  } catch {
    return env;
  }
}

export async function imageMetadata({ project, image, tags, flavor, labels }) {
  try {
    return computeMetadata({ project, images: image, tags: tags ?? LOCAL_TAG_RULES, flavor, labels, env: reproducibleEnv(process.env) });
  } catch (error) {
    if (error instanceof MetadataError) fail(`image metadata: ${error.message}`);
    throw error;
  }
}
