// The identity publish.yml signs and verifies with: the called workflow's own, as Fulcio writes it into the
// certificate (the OIDC token's job_workflow_ref): <server>/<owner>/<repo>/.github/workflows/publish.yml@<ref>.
// Not $GITHUB_SERVER_URL/$GITHUB_WORKFLOW_REF: when refresh.yml calls publish.yml (workflow_call), the github context
// and GITHUB_WORKFLOW_REF are the caller's (refresh.yml), while the certificate names the called workflow. A local
// reusable workflow (uses: ./.github/workflows/publish.yml) runs from the caller's commit and ref, so the called
// workflow's ref is GITHUB_REF in direct and called runs alike. tools/signing-identity.mjs is its CLI.
import { fail } from './errors.mjs';

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';
export const PUBLISH_WORKFLOW = '.github/workflows/publish.yml';

/**
 * The certificate identity of `workflow` (a path in the repository) run for the current ref.
 * @param {{env?: object, workflow?: string, jobWorkflowRef?: string}} [options]
 */
export function signingIdentity({ env = process.env, workflow = PUBLISH_WORKFLOW, jobWorkflowRef } = {}) {
  const server = env.GITHUB_SERVER_URL;
  if (!/^https:\/\/[^/\s]+$/.test(server ?? '')) fail(`GITHUB_SERVER_URL '${server ?? ''}' is not https://<host>`);
  if (jobWorkflowRef !== undefined) {
    if (!/^[\w.-]+\/[\w.-]+\/\.github\/workflows\/[\w./-]+\.ya?ml@refs\/(heads|tags)\/\S+$/.test(jobWorkflowRef))
      fail(`--job-workflow-ref '${jobWorkflowRef}' is not <owner>/<repo>/.github/workflows/<file>@refs/...`);
    return `${server}/${jobWorkflowRef}`;
  }
  const repository = env.GITHUB_REPOSITORY;
  const ref = env.GITHUB_REF;
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository ?? '')) fail(`GITHUB_REPOSITORY '${repository ?? ''}' is not <owner>/<repo>`);
  if (!/^refs\/(heads|tags)\/\S+$/.test(ref ?? '')) fail(`GITHUB_REF '${ref ?? ''}' is not a branch or tag ref`);
  if (!/^\.github\/workflows\/[\w.-]+\.ya?ml$/.test(workflow)) fail(`--workflow '${workflow}' is not a file in .github/workflows`);
  const identity = `${server}/${repository}/${workflow}@${ref}`;
  // A direct run of this very workflow: GitHub's own GITHUB_WORKFLOW_REF must say the same, else something is off.
  const own = env.GITHUB_WORKFLOW_REF;
  if (own?.startsWith(`${repository}/${workflow}@`) && `${server}/${own}` !== identity)
    fail(`GITHUB_WORKFLOW_REF '${own}' disagrees with GITHUB_REF '${ref}'`, 1);
  return identity;
}

/** An anchored regexp for cosign's --certificate-identity-regexp: publish.yml on the default branch or a vX.Y.Z tag. */
export function releaseIdentityRegexp({ server = 'https://github.com', repository, defaultBranch = 'main' }) {
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `^${escape(`${server}/${repository}/${PUBLISH_WORKFLOW}@refs/`)}(heads/${escape(defaultBranch)}|tags/v[0-9]+\\.[0-9]+\\.[0-9]+)$`;
}
