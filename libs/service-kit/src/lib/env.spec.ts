import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEnv, MAX_FILE_BYTES, type FileReader } from './env';

const files =
  (contents: Record<string, string>): FileReader =>
  (path) => {
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
    const read = files({ '/s/a': 's3cr3t\n', '/s/b': 'two\r\n\r\n', '/s/c': '  keep spaces  ' });
    const env = { A_FILE: '/s/a', B_FILE: '/s/b', C_FILE: '/s/c' };
    expect(readEnv(['A', 'B', 'C'], env, read)).toEqual({
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

  it('refuses a set but empty, newline-only or blank file (it must not mean "unset")', () => {
    const read = files({ '/s/empty': '', '/s/nl': '\n\r\n', '/s/blank': '  \n' });
    const result = readEnv(['A', 'B', 'C'], { A_FILE: '/s/empty', B_FILE: '/s/nl', C_FILE: '/s/blank' }, read);
    expect(result.values).toEqual({});
    expect(result.problems).toEqual([
      { variable: 'A_FILE', message: 'file "/s/empty" is empty' },
      { variable: 'B_FILE', message: 'file "/s/nl" is empty' },
      { variable: 'C_FILE', message: 'file "/s/blank" is empty' },
    ]);
  });

  describe('on disk, without trusting the file', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'kit-env-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses /dev/null (empty), /dev/zero, a directory and a FIFO without reading or blocking', () => {
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const env = { A_FILE: '/dev/null', B_FILE: '/dev/zero', C_FILE: dir, D_FILE: fifo };
      expect(readEnv(['A', 'B', 'C', 'D'], env).problems).toEqual([
        { variable: 'A_FILE', message: 'file "/dev/null" is not a regular file' },
        { variable: 'B_FILE', message: 'file "/dev/zero" is not a regular file' },
        { variable: 'C_FILE', message: `file ${JSON.stringify(dir)} is not a regular file` },
        { variable: 'D_FILE', message: `file ${JSON.stringify(fifo)} is not a regular file` },
      ]);
    });

    it('refuses a large file from its size, before reading it', () => {
      const big = path.join(dir, 'big');
      writeFileSync(big, '');
      execFileSync('truncate', ['-s', '400M', big]); // sparse: costs no disk, would cost 400 MB of RAM if read
      const before = process.memoryUsage().rss;
      expect(readEnv(['BIG'], { BIG_FILE: big }).problems).toEqual([
        { variable: 'BIG_FILE', message: `file ${JSON.stringify(big)} is larger than ${MAX_FILE_BYTES} bytes` },
      ]);
      expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024);
    });

    it('reads an empty real file as a problem and a small one as its value', () => {
      writeFileSync(path.join(dir, 'empty'), '');
      writeFileSync(path.join(dir, 'key'), 'abc\n');
      const result = readEnv(['A', 'B'], { A_FILE: path.join(dir, 'empty'), B_FILE: path.join(dir, 'key') });
      expect(result.values).toEqual({ B: 'abc' });
      expect(result.problems.map((p) => p.message)).toEqual([`file ${JSON.stringify(path.join(dir, 'empty'))} is empty`]);
    });
  });

  it('reads real files from disk by default', () => {
    const result = readEnv(['X'], { X_FILE: __filename });
    expect(result.values.X).toContain('readEnv');
  });
});
