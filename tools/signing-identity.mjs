#!/usr/bin/env node
// The identity publish.yml signs and verifies with (lib/signing-identity.mjs has the rule and why): the called
// workflow's, <server>/<owner>/<repo>/.github/workflows/publish.yml@<ref>, right also under workflow_call.
//
// Usage: node tools/signing-identity.mjs [--workflow .github/workflows/publish.yml] [--job-workflow-ref REF] [--github-output]
//   --job-workflow-ref  the OIDC claim itself (owner/repo/path@ref), when a caller has it: it wins over the derivation
// Prints the identity; with --github-output writes the step outputs identity and issuer.
import { appendFileSync } from 'node:fs';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { GITHUB_OIDC_ISSUER, PUBLISH_WORKFLOW, signingIdentity } from './lib/signing-identity.mjs';

export { GITHUB_OIDC_ISSUER, PUBLISH_WORKFLOW, releaseIdentityRegexp, signingIdentity } from './lib/signing-identity.mjs';

if (isMain(import.meta.url)) {
  runMain(() => {
    const { values } = parseCliArgs({
      options: { workflow: { type: 'string' }, 'job-workflow-ref': { type: 'string' }, 'github-output': { type: 'boolean' } },
    });
    const identity = signingIdentity({ workflow: values.workflow ?? PUBLISH_WORKFLOW, jobWorkflowRef: values['job-workflow-ref'] });
    if (values['github-output']) {
      if (!process.env.GITHUB_OUTPUT) fail('--github-output needs GITHUB_OUTPUT (set by GitHub Actions)');
      appendFileSync(process.env.GITHUB_OUTPUT, `identity=${identity}\nissuer=${GITHUB_OIDC_ISSUER}\n`);
    }
    console.log(identity);
  });
}
