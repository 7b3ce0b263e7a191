import { readEnv, MAX_FILE_BYTES, type FileReader } from './env';

const files = (contents: Record<string, string>): FileReader => (path) => {
  if (path in contents) return contents[path];
  throw Object.assign(new Error(`ENOENT: no such file ${path}`), { code: 'ENOENT' });
};

describe('readEnv', () => {
  it('reads NAME directly', () => {
    expect(readEnv(['PORT'], { PORT: '8080' })).toEqual({ values: { PORT: '8080' }, problems: [] });
  });

  it('treats unset and empty variables as absent', () => {
    expect(readEnv(['A', 'B', 'C'], { B: '', C_FILE: '' })).toEqual({ values: {}, problems: [] });
  });

  it('reads NAME_FILE and trims trailing newlines only', () => {
    const read = files({ '/s/a': 's3cr3t\n', '/s/b': 'two\r\n\r\n', '/s/c': '  keep spaces  ', '/s/d': '\n' });
    const env = { A_FILE: '/s/a', B_FILE: '/s/b', C_FILE: '/s/c', D_FILE: '/s/d' };
    expect(readEnv(['A', 'B', 'C', 'D'], env, read)).toEqual({
      values: { A: 's3cr3t', B: 'two', C: '  keep spaces  ' },
      problems: [],
    });
  });

  it('rejects NAME and NAME_FILE both set', () => {
    const result = readEnv(['API_KEY'], { API_KEY: 'x', API_KEY_FILE: '/s/k' }, files({ '/s/k': 'y' }));
    expect(result.values).toEqual({});
    expect(result.problems).toEqual([{ variable: 'API_KEY', message: 'both API_KEY and API_KEY_FILE are set; set only one' }]);
  });

  it('reports an unreadable file with its path and error code', () => {
    const result = readEnv(['TOKEN'], { TOKEN_FILE: '/missing' }, files({}));
    expect(result.problems).toEqual([{ variable: 'TOKEN_FILE', message: 'cannot read file "/missing" (ENOENT)' }]);
  });

  it('refuses oversized files', () => {
    const result = readEnv(['BIG'], { BIG_FILE: '/big' }, files({ '/big': 'x'.repeat(MAX_FILE_BYTES + 1) }));
    expect(result.problems[0]).toMatchObject({ variable: 'BIG_FILE' });
    expect(result.problems[0].message).toMatch(/larger than/);
  });

  it('reads real files from disk by default', () => {
    const result = readEnv(['X'], { X_FILE: __filename });
    expect(result.values.X).toContain('readEnv');
  });
});
