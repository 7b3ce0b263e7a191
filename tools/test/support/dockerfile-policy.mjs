// Machine-checkable Dockerfile rules (CIS Docker Benchmark §4, OWASP Docker cheat sheet, Trivy DS checks) as node:test
// suites. Each image recipe runs them on its own Dockerfile from a test beside it (docker/*/test/dockerfile-policy.test.mjs),
// which is also its Nx `test` target: no Docker Engine needed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DockerfileParser } from 'dockerfile-ast';
import { workspaceRoot } from '../../lib/workspace.mjs';

const SECRET_NAME = /(token|secret|passw(or)?d|api[_-]?key|credential|private[_-]?key|auth)/i;

function stages(file) {
  const dockerfile = DockerfileParser.parse(readFileSync(path.join(workspaceRoot, file), 'utf8'));
  return {
    dockerfile,
    stages: dockerfile.getFROMs().map((from, index, all) => ({
      from,
      instructions: dockerfile
        .getInstructions()
        .filter(
          (i) =>
            i.getRange().start.line >= from.getRange().start.line &&
            (index + 1 === all.length || i.getRange().start.line < all[index + 1].getRange().start.line),
        ),
    })),
  };
}

const keywordsOf = (instructions) => instructions.map((i) => i.getKeyword());

/** Registers the policy tests for one Dockerfile (path relative to the workspace root). */
export function dockerfilePolicy(file) {
  describe(file, () => {
    const { dockerfile, stages: all } = stages(file);
    const final = all.at(-1);

    test('final stage runs as a numeric non-root USER', () => {
      const users = final.instructions.filter((i) => i.getKeyword() === 'USER');
      assert.ok(users.length > 0, 'USER in the final stage');
      const user = users.at(-1).getArgumentsContent();
      assert.match(user, /^[1-9]\d*(:[1-9]\d*)?$/, `numeric non-root user, got '${user}'`);
    });

    test('final stage declares an exec-form HEALTHCHECK and ENTRYPOINT', () => {
      const health = final.instructions.find((i) => i.getKeyword() === 'HEALTHCHECK');
      assert.ok(health, 'HEALTHCHECK');
      assert.match(health.getArgumentsContent(), /CMD \[/, 'exec form');
      const entry = final.instructions.find((i) => i.getKeyword() === 'ENTRYPOINT');
      assert.match(entry?.getArgumentsContent() ?? '', /^\[/, 'exec-form ENTRYPOINT');
    });

    test('uses no ADD (COPY only: no remote fetches, no implicit unpacking)', () => {
      assert.equal(keywordsOf(dockerfile.getInstructions()).includes('ADD'), false);
    });

    test('declares no secret-like ARG or ENV names', () => {
      const names = dockerfile
        .getInstructions()
        .filter((i) => ['ARG', 'ENV'].includes(i.getKeyword()))
        .flatMap((i) => i.getArguments().map((a) => a.getValue().split('=')[0]));
      assert.deepEqual(
        names.filter((name) => SECRET_NAME.test(name)),
        [],
      );
    });

    test('pins upstream images to exact versions (no latest, no floating major)', () => {
      const defaults = dockerfile
        .getInstructions()
        .filter((i) => i.getKeyword() === 'ARG')
        .map((i) => i.getArgumentsContent())
        .filter((a) => /_IMAGE=/.test(a) && !/secure-ci\//.test(a));
      // ${NODE_VERSION} is the exact version from .node-version (tools/lib/node-version.mjs enforces X.Y.Z)
      for (const arg of defaults)
        assert.match(arg.replace('${NODE_VERSION}', '0.0.0'), /:[^:]*\d+\.\d+[^:]*$|@sha256:[0-9a-f]{64}$/, `exact version in ${arg}`);
      for (const from of dockerfile.getFROMs()) assert.doesNotMatch(from.getImage() ?? '', /:latest$/);
    });

    test('cross-builds: every stage that RUNs is FROM --platform=$BUILDPLATFORM, the final stage only COPYs', () => {
      for (const { from, instructions } of all) {
        if (!instructions.some((i) => i.getKeyword() === 'RUN')) continue;
        assert.equal(
          from.getPlatformFlag()?.getValue(),
          '$BUILDPLATFORM',
          `stage '${from.getBuildStage() ?? from.getImage()}' runs commands: it must be FROM --platform=$BUILDPLATFORM`,
        );
      }
      assert.deepEqual(
        keywordsOf(final.instructions).filter((k) => k === 'RUN'),
        [],
        'no RUN in the final stage',
      );
    });

    test('takes the Node.js version only from the NODE_VERSION build arg (no default: .node-version is the one place)', () => {
      const text = readFileSync(path.join(workspaceRoot, file), 'utf8');
      assert.match(text, /^ARG NODE_VERSION$/m);
      assert.doesNotMatch(text.replace(/^#.*$/gm, ''), /node:\d|NODE_VERSION=\d/);
    });

    test('never runs a package-manager update on its own', () => {
      for (const run of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'RUN')) {
        const text = run.getArgumentsContent();
        // the update and the install/download it serves share one RUN (a cached lone update serves stale lists)
        if (/apt-get update/.test(text)) assert.match(text, /apt-get update\s*\\?\s*&&[\s\S]*\bapt-get (install|download)\b/, 'update chained with install');
      }
    });
  });
}

/** The npm_token secret of the service Dockerfile: a BuildKit secret mount, never a COPY. */
export function npmTokenPolicy(file) {
  describe(`${file} secrets`, () => {
    const { dockerfile } = stages(file);
    test('npm_token is consumed as a BuildKit secret mount, never COPYed', () => {
      const mounts = dockerfile
        .getInstructions()
        .filter((i) => i.getKeyword() === 'RUN')
        .flatMap((i) => i.getFlags().map((f) => `${f.getName()}=${f.getValue()}`));
      assert.ok(mounts.some((m) => m.startsWith('mount=type=secret,id=npm_token')));
      const copies = dockerfile
        .getInstructions()
        .filter((i) => i.getKeyword() === 'COPY')
        .map((i) => i.getArgumentsContent());
      assert.equal(
        copies.some((c) => /npm_token|\.pem|\.crt|ca-certificates/.test(c)),
        false,
      );
    });
  });
}
