// The services' own configuration defaults, as each service computes them: every service declares its schema in
// apps/<service>/src/config.ts (`configSchema`, built with the kit's defineConfig), so that module is compiled with
// esbuild (the apps' own bundler; tsconfig.base.json maps @secure-ci/service-kit to its source) and evaluated, and
// the schema answers for a variable that is not set. A refactor of the kit or the service keeps this working as long
// as the schema keeps its meaning; no source text is pattern-matched.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** The variables whose defaults the policy needs. */
export const DEFAULTED = ['SHUTDOWN_GRACE_MS'];

/**
 * @param {string} root workspace root
 * @param {{name: string, root: string}[]} services
 * @returns {Promise<Record<string, Record<string, unknown>>>} service -> variable -> its value when unset
 */
export async function serviceConfigDefaults(root, services) {
  const entry = services.map((s, i) => `export { configSchema as s${i} } from './${s.root}/src/config.ts';`).join('\n');
  let bundle;
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: root, loader: 'ts', sourcefile: 'service-config-defaults.ts' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      // npm packages (zod) load from the workspace's node_modules, as the services load them
      packages: 'external',
      tsconfig: path.join(root, 'tsconfig.base.json'),
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0].text;
  } catch (error) {
    const first = error.errors?.[0];
    const where = first?.location ? `${first.location.file}: ` : '';
    throw new Error(`cannot compile the services' config modules: ${where}${first?.text ?? String(error.message).split('\n')[0]}`);
  }
  // Written inside the workspace (not a temp dir) so that its package imports resolve from node_modules.
  const dir = path.join(root, 'node_modules/.cache/secure-ci');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `service-config-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, bundle);
  let schemas;
  try {
    schemas = await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
  return Object.fromEntries(
    services.map((s, i) => {
      const shape = schemas[`s${i}`]?.shape;
      if (!shape) throw new Error(`${s.root}/src/config.ts exports no configSchema (a defineConfig schema)`);
      const defaults = {};
      for (const variable of DEFAULTED) {
        const parsed = shape[variable]?.safeParse(undefined);
        if (!parsed?.success) throw new Error(`${s.root}/src/config.ts: ${variable} has no default`);
        defaults[variable] = parsed.data;
      }
      return [s.name, defaults];
    }),
  );
}
