// The environment for a tool or `nx` run on a workspace of the tests' own (a throwaway clone, a scratch repository):
// this process's, minus what could change the answers (CI's GITHUB_*, a shell's NX_*, IMAGE_PREFIX/IMAGE_TAG,
// git's GIT_* and config, a service selection for the image tests, node:test's own context), plus `extra`.

/** NX_ISOLATE_PLUGINS is kept: how Nx loads plugins (tools/test.mjs sets it) changes no answer, only the CPU spent. */
const DROPPED = /^(GITHUB_|NX_|IMAGE_PREFIX$|IMAGE_TAG$|GIT_|SERVICE_IMAGES$|NODE_TEST_CONTEXT$)/;

export function cleanEnv(extra = {}) {
  const kept = Object.entries(process.env).filter(([name]) => name === 'NX_ISOLATE_PLUGINS' || !DROPPED.test(name));
  return {
    ...Object.fromEntries(kept),
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    ...extra,
  };
}
