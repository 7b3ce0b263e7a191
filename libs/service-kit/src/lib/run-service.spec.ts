import { defineConfig, env } from './config';
import { runService } from './run-service';

const schema = defineConfig({ defaultPort: 0 }, { UPSTREAM_URL: env.url() });

function run(vars: Record<string, string>, build: () => never) {
  const written: string[] = [];
  const exits: number[] = [];
  const done = runService({
    name: 'svc',
    configSchema: schema,
    env: vars,
    build,
    stderr: { write: (t: string) => written.push(t) },
    exit: (code) => exits.push(code),
  });
  return { done, written, exits };
}

describe('runService', () => {
  it('exits 78 with one stderr line listing every bad variable, before building anything', async () => {
    const build = jest.fn(() => {
      throw new Error('must not be called');
    });
    const { done, written, exits } = run({ PORT: 'abc', API_KEY_FILE: '/does/not/exist' }, build);
    expect(await done).toBeUndefined();
    expect(exits).toEqual([78]);
    expect(build).not.toHaveBeenCalled();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^svc: invalid configuration \(3 problems\): .*\n$/);
    expect(written[0].trimEnd()).not.toContain('\n');
    for (const name of ['PORT', 'API_KEY_FILE', 'UPSTREAM_URL']) expect(written[0]).toContain(`${name}:`);
  });

  it('exits 1 with one line when building the app fails', async () => {
    const { done, written, exits } = run({ UPSTREAM_URL: 'http://u' }, () => {
      throw Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    });
    expect(await done).toBeUndefined();
    expect(exits).toEqual([1]);
    expect(written).toEqual(['svc: failed to start: listen EACCES (EACCES)\n']);
  });

  it('prints an unexpected build error as one line, with the stack only at LOG_LEVEL=debug', async () => {
    const boom = () => {
      throw new TypeError('cannot read properties of undefined');
    };
    const plain = run({ UPSTREAM_URL: 'http://u' }, boom);
    await plain.done;
    expect(plain.written).toEqual(['svc: failed to start: cannot read properties of undefined\n']);
    const debug = run({ UPSTREAM_URL: 'http://u', LOG_LEVEL: 'debug' }, boom);
    await debug.done;
    expect(debug.written[0]).toMatch(/^svc: failed to start: cannot read properties of undefined\nTypeError: .*\n\s+at /);
  });
});
