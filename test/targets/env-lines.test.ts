import { describe, expect, it } from 'vitest';
import { readEnvValue, setEnvValues } from '../../src/targets/env-lines.js';

describe('setEnvValues', () => {
  const cases: Array<[string, string, Record<string, string>, string]> = [
    ['plain value', 'P=10\n', { P: '25' }, 'P=25\n'],
    ['other keys, comments and blank lines kept', '# top\nA=1\n\nP=10\nB=2\n', { P: '25' }, '# top\nA=1\n\nP=25\nB=2\n'],
    ['export prefix', 'export P=10\n', { P: '25' }, 'export P=25\n'],
    ['indentation and spaces around =', '  P = 10\n', { P: '25' }, '  P = 25\n'],
    ['single quotes', "P='10'\n", { P: '25' }, "P='25'\n"],
    ['double quotes', 'P="10"\n', { P: '25' }, 'P="25"\n'],
    ['backticks', 'P=`10`\n', { P: '25' }, 'P=`25`\n'],
    ['inline comment after unquoted value', 'P=10   # percent\n', { P: '25' }, 'P=25   # percent\n'],
    ['inline comment after quoted value', 'P="10" # percent\n', { P: '25' }, 'P="25" # percent\n'],
    ['# without space stays in the value', 'P=10#x\n', { P: '25' }, 'P=25\n'],
    ['CRLF endings kept', 'A=1\r\nP=10\r\nB=2\r\n', { P: '25' }, 'A=1\r\nP=25\r\nB=2\r\n'],
    ['mixed endings kept per line', 'A=1\r\nP=10\nB=2\r\n', { P: '25' }, 'A=1\r\nP=25\nB=2\r\n'],
    ['no final newline', 'A=1\nP=10', { P: '25' }, 'A=1\nP=25'],
    ['empty value', 'P=\n', { P: '25' }, 'P=25\n'],
    ['commented-out line is not the key', '# P=5\nP=10\n', { P: '25' }, '# P=5\nP=25\n'],
    ['prefix of another key is not the key', 'PP=1\nP_X=2\nP=10\n', { P: '25' }, 'PP=1\nP_X=2\nP=25\n'],
    ['several keys at once', 'A=1\nB="x"\n', { A: '0', B: 'off' }, 'A=0\nB="off"\n'],
    ['value needing quotes in an unquoted line', 'M=1\n', { M: 'down for maintenance' }, 'M="down for maintenance"\n'],
    ['double-quoted line, value with $', 'M="x"\n', { M: 'a$b' }, "M='a$b'\n"],
    ['single-quoted line, value with a quote', "M='x'\n", { M: "it's" }, 'M="it\'s"\n'],
    [
      'a KEY= line inside another key\'s multi-line value is not the key',
      'CERT="-----BEGIN\nP=99\n-----END"\nP=10\n',
      { P: '25' },
      'CERT="-----BEGIN\nP=99\n-----END"\nP=25\n',
    ],
    ['BOM kept', '\uFEFFP=10\n', { P: '25' }, '\uFEFFP=25\n'],
  ];
  it.each(cases)('%s', (_name, input, values, expected) => {
    expect(setEnvValues(input, values)).toBe(expected);
  });

  it.each([
    ['missing key appended', 'A=1\n', { P: '25' }, 'A=1\nP=25\n'],
    ['missing key appended with CRLF', 'A=1\r\n', { P: '25' }, 'A=1\r\nP=25\r\n'],
    ['missing key after a file without final newline', 'A=1', { P: '25' }, 'A=1\nP=25'],
    ['missing key in an empty file', '', { P: '25' }, 'P=25\n'],
    ['present and missing keys at once', 'A=1\nB="x"\n', { A: '0', B: 'off', C: 'y' }, 'A=0\nB="off"\nC=y\n'],
  ])('with append: %s', (_name, input, values, expected) => {
    expect(setEnvValues(input, values, { append: true })).toBe(expected);
  });

  it('refuses a missing key unless appending is allowed, naming the key', () => {
    expect(() => setEnvValues('A=1\n', { P: '25' })).toThrow('no line sets P; add `P=0` to the file');
    expect(() => setEnvValues('A=1\n', { A: '2', P: '25' })).toThrow(/no line sets P/);
  });

  it('refuses a key set on several lines, naming them, with or without append', () => {
    expect(() => setEnvValues('P=1\nA=2\nP=3\n', { P: '25' })).toThrow('P is set on lines 1 and 3; rollout changes one line only, so remove all but one');
    expect(() => setEnvValues('P=1\nP=2\n# x\nexport P=3\n', { P: '25' }, { append: true })).toThrow('P is set on lines 1, 2 and 4');
  });

  it.each([
    ['a line break', { P: 'a\nb' }],
    ['both kinds of quote', { P: `"'"` }],
  ])('refuses a value with %s', (_name, values) => {
    expect(() => setEnvValues('P=1\n', values)).toThrow(/P/);
  });

  it('refuses to edit a key whose value spans lines', () => {
    expect(() => setEnvValues('P="1\n2"\n', { P: '3' })).toThrow(/spans several lines/);
  });
});

describe('readEnvValue', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['plain', 'P=10\n', '10'],
    ['export', 'export P=10\n', '10'],
    ['single quotes', "P='10 %'\n", '10 %'],
    ['double quotes with escapes', 'P="a\\"b\\\\c"\n', 'a"b\\c'],
    ['inline comment', 'P=10 # ten\n', '10'],
    ['CRLF', 'P=10\r\n', '10'],
    ['missing', 'A=1\n', undefined],
    ['only commented out', '# P=10\n', undefined],
    ['empty', 'P=\n', ''],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(readEnvValue(text, 'P')).toBe(expected);
  });

  it('refuses a key set on several lines: which one counts depends on the reader', () => {
    expect(() => readEnvValue('P=1\nP=2\n', 'P')).toThrow('P is set on lines 1 and 2');
  });
});
