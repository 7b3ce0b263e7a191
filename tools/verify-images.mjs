#!/usr/bin/env node
// Verifies a Kubernetes image override before it is used: the k8s-images artifact of a publish run is an unsigned
// file, so every digest it names must carry a valid cosign signature from publish.yml (this repository, on the
// default branch or a vX.Y.Z tag) before the override is committed or applied. One line per failure; exit 1 if any.
//
// Usage: node tools/verify-images.mjs <kustomization.yaml> (--repository OWNER/REPO [--server URL] [--default-branch B]
//          [--attestations] | --key cosign.pub) [--allow-insecure-registry]
//   --repository     keyless: the anchored identity of publish.yml (tools/signing-identity.mjs releaseIdentityRegexp)
//   --attestations   also `gh attestation verify --signer-workflow <repo>/.github/workflows/publish.yml` (needs gh)
//   --key            a cosign public key instead (the tests' key pair)
// cosign: COSIGN_BIN, else on PATH.
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { fail, isMain, parseCliArgs, runMain } from './lib/cli.mjs';
import { $, lastLine, which } from './lib/process.mjs';
import { GITHUB_OIDC_ISSUER, PUBLISH_WORKFLOW, releaseIdentityRegexp } from './lib/signing-identity.mjs';

const PLACEHOLDER = /^sha256:0{64}$/;

/** The `<newName>@<digest>` references of an override (its `images:` entries); malformed input is one line. */
export function overrideRefs(file) {
  if (!existsSync(file)) fail(`no such file: ${file}`);
  let doc;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${file} is not YAML: ${String(error.message).split('\n')[0]}`);
  }
  const images = doc?.images;
  if (!Array.isArray(images) || !images.length) fail(`${file} has no images: entries`);
  return images.map((entry) => {
    if (!entry?.newName || !/^sha256:[0-9a-f]{64}$/.test(String(entry.digest ?? '')))
      fail(`${file}: entry ${entry?.name ?? '?'} needs newName and a sha256 digest`);
    if (PLACEHOLDER.test(entry.digest)) fail(`${file}: ${entry.name} still has the all-zero placeholder digest (take a publish run's k8s-images artifact)`);
    return `${entry.newName}@${entry.digest}`;
  });
}

export async function verifyImages(
  file,
  { repository, server = 'https://github.com', defaultBranch = 'main', key, attestations = false, allowInsecureRegistry = false },
) {
  if (!key && !repository) fail('pass --repository OWNER/REPO (keyless, publish.yml) or --key FILE');
  if (key && repository) fail('pass either --repository or --key, not both');
  if (repository && !/^[\w.-]+\/[\w.-]+$/.test(repository)) fail(`--repository '${repository}' is not OWNER/REPO`);
  const refs = overrideRefs(file);
  const cosign = process.env.COSIGN_BIN || (await which('cosign', { nothrow: true }));
  if (!cosign) fail('cosign is not installed (https://docs.sigstore.dev/cosign/system_config/installation/)', 3);
  const identity = key
    ? ['--key', key, '--insecure-ignore-tlog=true']
    : ['--certificate-identity-regexp', releaseIdentityRegexp({ server, repository, defaultBranch }), '--certificate-oidc-issuer', GITHUB_OIDC_ISSUER];
  const insecure = allowInsecureRegistry ? ['--allow-insecure-registry'] : [];
  const failures = [];
  for (const ref of refs) {
    const verified = await $({ nothrow: true, timeout: '120s' })`${cosign} verify ${identity} ${insecure} ${ref}`;
    if (verified.exitCode !== 0) {
      failures.push(`${ref} (${lastLine(verified) || `cosign exit ${verified.exitCode}`})`);
      continue;
    }
    if (attestations) {
      const gh = await $({
        nothrow: true,
        timeout: '120s',
      })`gh attestation verify ${`oci://${ref}`} --repo ${repository} --signer-workflow ${`${repository}/${PUBLISH_WORKFLOW}`}`;
      if (gh.exitCode !== 0) failures.push(`${ref} (gh attestation verify: ${lastLine(gh) || `exit ${gh.exitCode}`})`);
    }
  }
  if (failures.length) fail(`NOT VERIFIED: ${failures.join('; ')}`, 1);
  return refs;
}

if (isMain(import.meta.url)) {
  runMain(async () => {
    const { values, positionals } = parseCliArgs({
      options: {
        repository: { type: 'string' },
        server: { type: 'string' },
        'default-branch': { type: 'string' },
        key: { type: 'string' },
        attestations: { type: 'boolean' },
        'allow-insecure-registry': { type: 'boolean' },
      },
      allowPositionals: true,
    });
    if (positionals.length !== 1)
      fail('expected one override file, e.g. node tools/verify-images.mjs deploy/k8s/overlays/production/images/kustomization.yaml --repository acme/shop');
    const refs = await verifyImages(positionals[0], {
      repository: values.repository,
      server: values.server,
      defaultBranch: values['default-branch'],
      key: values.key,
      attestations: values.attestations,
      allowInsecureRegistry: values['allow-insecure-registry'],
    });
    console.log(`verified: ${refs.length} images (${refs.join(', ')})`);
  });
}
