'use strict';
// A service's compose file (apps/<name>/compose.yaml), rendered from its facts (name, port, what it calls): the
// container on the shared hardening, its key as a compose secret read through API_KEY_FILE, a loopback host port,
// and for each callee its URL, its key, `depends_on: condition: service_healthy` and an `include:` of the callee's
// own compose file, so `docker compose -f apps/<name>/compose.yaml up` runs the service with everything it needs.
// Compose v2 (>= 2.20, `include:`); the root compose.yaml includes every service's file. The sync generator
// (generators/sync) writes it with its GENERATED header.
const { IMAGE_PREFIX } = require('../../lib/defaults.cjs');

const VAR = (name) => name.toUpperCase().replace(/-/g, '_');

/**
 * @param {{ name: string, port: number }} service
 * @param {{ name: string, port: number }[]} callees  the services it calls, with their ports
 * @param {string} header  comment lines put first (the sync generator's "generated" note)
 * @returns {string} the file's text
 */
function composeFile(service, callees = [], header = '') {
  const { name, port } = service;
  const v = VAR(name);
  const lines = [
    ...(header ? [header] : []),
    `# ${name}${callees.length ? ` and what it calls (${callees.map((c) => c.name).join(', ')}, included below)` : ' on its own'}:  docker compose -f apps/${name}/compose.yaml up -d`,
    `# Host port: ${v}_PORT (default ${port}, 127.0.0.1 only). Hardening: docker/compose/hardening.yaml.`,
  ];
  if (callees.length) lines.push('include:', ...callees.map((c) => `  - ../${c.name}/compose.yaml`));
  lines.push(
    'services:',
    `  ${name}:`,
    '    extends:',
    '      file: ../../docker/compose/hardening.yaml',
    '      service: hardened',
    `    image: \${IMAGE_PREFIX:-${IMAGE_PREFIX}}/${name}:\${IMAGE_TAG:-local}`,
    '    environment:',
    `      API_KEY_FILE: /run/secrets/${name}_api_key`,
  );
  for (const c of callees) {
    const cv = VAR(c.name);
    lines.push(
      `      ${cv}_URL: http://${c.name}:${c.port}`,
      `      ${cv}_API_KEY_FILE: /run/secrets/${c.name}_api_key`,
      `      ${cv}_TIMEOUT_MS: \${${cv}_TIMEOUT_MS:-2000}`,
    );
  }
  lines.push('    secrets:', `      - ${name}_api_key`, ...callees.map((c) => `      - ${c.name}_api_key`));
  lines.push('    ports:', `      - "127.0.0.1:\${${v}_PORT:-${port}}:${port}"`);
  if (callees.length) lines.push('    depends_on:', ...callees.flatMap((c) => [`      ${c.name}:`, '        condition: service_healthy']));
  lines.push(
    '',
    'secrets:',
    `  ${name}_api_key:`,
    `    # DEVELOPMENT-ONLY default (see dev-secrets/README.md); set ${v}_API_KEY_FILE to an absolute path for a real key.`,
    `    file: \${${v}_API_KEY_FILE:-./dev-secrets/api-key}`,
  );
  return `${lines.join('\n')}\n`;
}

module.exports = { composeFile };
