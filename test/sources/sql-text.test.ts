/** The validator's reading of SQL text: one statement, that reads, with $1 at most. */
import { describe, expect, it } from 'vitest';
import { readSqlShape } from '../../src/sources/sql-text.js';

describe('one statement', () => {
  it.each([
    ['a plain SELECT', 'SELECT 1'],
    ['a trailing ;', 'SELECT 1;'],
    ['a trailing ; then blanks and a comment', 'SELECT 1 ;\n  -- done\n'],
    ['a ; in a string', "SELECT count(*) FROM t WHERE note = 'a;b'"],
    ['a doubled quote in a string', "SELECT count(*) FROM t WHERE note = 'it''s; fine'"],
    ['an escape string with \\\'', "SELECT count(*) FROM t WHERE note = E'it\\'s; fine'"],
    ['an escape string with a doubled quote, then \\\'', "SELECT E'a''\\'; b'"],
    ['a ; in a quoted name', 'SELECT count(*) FROM "odd;name"'],
    ['a ; in a dollar-quoted string', 'SELECT length($$a;b$$)'],
    ['a ; in a tagged dollar-quoted string holding $$', 'SELECT length($body$ $$; $body$)'],
    ['a ; in a line comment', 'SELECT 1 -- one; two\n'],
    ['a ; in a nested block comment', 'SELECT /* a /* b; */ c; */ 1'],
    ['a query in parentheses', '(SELECT 1)'],
    ['a WITH query', 'WITH x AS (SELECT 1 AS n) SELECT n FROM x'],
    ['VALUES', 'VALUES (1)'],
    ['a lower-case select after a comment', '/* share */ select 0.5'],
  ])('%s', (_, sql) => {
    expect(readSqlShape(sql)).toMatchObject({ ok: true });
  });

  it.each([
    ['two statements', 'SELECT 1; SELECT 2', 'the query holds 2 statements'],
    ['a write after a read', "SELECT 1; DELETE FROM t WHERE note = 'x;y'", 'the query holds 2 statements'],
    ['a statement after a string with a doubled quote', "SELECT 'it''s'; SELECT 2", 'the query holds 2 statements'],
    ['a statement after a dollar-quoted string', 'SELECT $x$ ; $x$; SELECT 2', 'the query holds 2 statements'],
    ['a statement after a block comment', 'SELECT 1 /* ; */; SELECT 2', 'the query holds 2 statements'],
    // Outside E'', a backslash is a character: the string ends at the second quote.
    ['a statement after a backslash in a plain string', "SELECT 'a\\'; SELECT 2", 'the query holds 2 statements'],
    ['nothing', '  ', 'the query is empty'],
    ['only comments and ;', '-- nothing\n;', 'the query is empty'],
    ['an INSERT', 'INSERT INTO t VALUES (1)', 'the query starts with INSERT, which does not read'],
    ['a SET', "set statement_timeout = '0'", 'the query starts with SET, which does not read'],
    ['an UPDATE in parentheses', '(UPDATE t SET n = 1)', 'the query starts with UPDATE, which does not read'],
    ['an unterminated string', "SELECT 'abc", 'unterminated string at character 8'],
    ['an unterminated quoted name', 'SELECT "abc', 'unterminated quoted name at character 8'],
    ['an unterminated comment', 'SELECT 1 /* /* */', 'unterminated comment at character 10'],
    ['an unterminated dollar-quoted string', 'SELECT $q$ abc $$', 'unterminated dollar-quoted string at character 8'],
  ])('%s is refused', (_, sql, reason) => {
    expect(readSqlShape(sql)).toMatchObject({ ok: false, reason });
  });
});

describe('parameters', () => {
  it('finds $1 in code, not in strings, names, comments or longer names', () => {
    expect(readSqlShape('SELECT count(*) FROM t WHERE at > now() - $1::interval')).toMatchObject({ ok: true, parameters: [1] });
    expect(readSqlShape(`SELECT count(*) FROM t WHERE note <> '$1' AND "$1" > 0 AND a$1 > 0 -- $1\n`)).toMatchObject({ ok: true, parameters: [] });
  });

  it('refuses parameters beyond $1, which nothing gives', () => {
    expect(readSqlShape('SELECT $1::interval, $2::int')).toMatchObject({ ok: false, reason: 'the query uses $2, which is never given' });
    expect(readSqlShape("SELECT '$2', $$ $3 $$")).toMatchObject({ ok: true, parameters: [] });
  });
});
