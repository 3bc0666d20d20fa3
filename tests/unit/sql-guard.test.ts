import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SQL_LENGTH, SqlRefusedError, trimStatement } from '@/server/query/guard';
import { guardPostgresSql } from '@/server/query/postgres-guard';
import { SQLITE_GUARD_MESSAGES, sqliteGuardRuntime } from '@/server/query/sqlite-guard';
import { seedDemoData } from '@/server/seed/seed';
import { ACCEPTED, POSTGRES_ACCEPTED, SQLITE_ACCEPTED } from '../fixtures/sql-statements';
import { tempDir } from '../helpers/databases';

// The guard decides on the statement as each database reads it. These are the statements an attacker
// (or a confused model) sends; each must be refused with a sentence, by the layer named in the list.
// tests/integration/sql-guard-attacks.test.ts sends the same through the chat and the API.

const allowedTables = ['customers', 'products', 'orders', 'order_items', 'events'];
const BYPASS = (inner: string) => `SELECT 'a\\' AS c1, (${inner}) AS c2 /*' AS c3 -- */`;

/** Refused by both dialects, with the sentence each gives. */
const BOTH: Array<[string, RegExp]> = [
  ['DELETE FROM orders', /only read-only/i],
  ['delete from orders where 1=1', /only read-only/i],
  ['UPDATE orders SET total = 0', /only read-only/i],
  ['INSERT INTO orders (id) VALUES (1)', /only read-only/i],
  ['insert into orders select * from orders', /only read-only/i],
  ['DROP TABLE orders', /only read-only/i],
  ['CREATE TABLE evil (id int)', /only read-only/i],
  ['ALTER TABLE orders ADD COLUMN x int', /only read-only/i],
  ['SELECT 1; DROP TABLE orders', /one statement|only read-only/i],
  ['SELECT * FROM orders; SELECT * FROM customers', /one statement/i],
  ['SELECT 1; -- x\nSELECT 2', /one statement/i],
  ['WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d', /only read-only|syntax/i],
  ['SELECT * FROM "User"', /not available/i],
  ['SELECT * FROM Session', /not available/i],
  ['SELECT id FROM orders UNION SELECT id FROM "User"', /not available/i],
  ['SELECT (SELECT count(*) FROM "Session") FROM orders', /not available/i],
  ['SELECT * FROM orders WHERE customer_id IN (SELECT id FROM users)', /not available/i],
  ['SELECT * FROM orders o JOIN "Export" e ON e.id = o.id', /not available/i],
  ['WITH x AS (SELECT * FROM "Message") SELECT * FROM x', /not available/i],
  ['SELECT * FROM other_db.orders', /not available/i],
  ["SELECT * FROM pragma_table_info('orders')", /not available|table functions|not allowed/i],
  ["SELECT load_extension('/tmp/evil.so')", /is not (allowed|available) in queries/i],
  ["SELECT readfile('/etc/passwd')", /is not (allowed|available) in queries/i],
  ['SELECT * INTO stolen FROM orders', /into|syntax/i],
  ["ATTACH DATABASE '/tmp/x.db' AS x", /only read-only|syntax/i],
  ['PRAGMA writable_schema = 1', /only read-only|syntax/i],
  ['VACUUM', /only read-only/i],
  ['EXPLAIN SELECT * FROM orders', /only read-only/i],
  ['SELEC * FROM orders', /syntax|only read-only/i],
  ['SELECT * FROM orders WHERE', /syntax/i],
  ['   ', /empty/i],
  [';', /empty/i],
  ['-- just a comment', /empty/i],
  ['/* only a comment */', /empty/i],
  // Quote and comment tricks.
  [BYPASS('SELECT name FROM sqlite_master LIMIT 1'), /not available/i],
  [BYPASS('SELECT datname FROM pg_database LIMIT 1'), /not available/i],
  ["SELECT 'x'' ) FROM orders; --' FROM orders; DROP TABLE orders", /one statement|only read-only/i],
  ['SELECT 1 /* /* nested */ FROM "User" */ FROM "User"', /not available|syntax/i],
  ['SELECT "a""b" FROM orders, "Session"', /not available|syntax/i],
];

/** PostgreSQL: what its parser reads, refused by the allow-lists of postgres-guard.ts. */
const POSTGRES: Array<[string, RegExp]> = [
  [BYPASS("SELECT string_agg(query, ',') FROM pg_stat_activity"), /not available/i],
  [BYPASS('SELECT pg_sleep(10)'), /pg_sleep\(\) is not allowed/],
  [BYPASS("SELECT set_config('default_transaction_read_only', 'off', false)"), /set_config\(\) is not allowed/],
  [BYPASS('SELECT pg_terminate_backend(1)'), /pg_terminate_backend\(\) is not allowed/],
  [BYPASS("SELECT lo_from_bytea(0, '\\x41')"), /lo_from_bytea\(\) is not allowed/],
  [BYPASS("SELECT pg_read_file('/etc/passwd')"), /pg_read_file\(\) is not allowed/],
  [BYPASS("SELECT string_agg(f, ',') FROM pg_ls_dir('.') f"), /pg_ls_dir\(\) is not allowed/],
  [BYPASS('SELECT rolpassword FROM pg_authid LIMIT 1'), /not available/i],
  [BYPASS('SELECT version()'), /version\(\) is not allowed/],
  ["SELECT * FROM ts_stat('select to_tsvector(name) from customers')", /ts_stat\(\) is not allowed/],
  [
    "SELECT ts_rewrite('a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery')",
    /ts_rewrite\(\) is not allowed|type tsquery/,
  ],
  ["SELECT query_to_xml('select * from pg_authid', true, true, '')", /query_to_xml\(\) is not allowed/],
  ['SELECT * FROM pg_catalog.pg_user', /not available/i],
  ['SELECT * FROM information_schema.tables', /not available/i],
  ['SELECT * FROM public."User"', /not available/i],
  ['SELECT * FROM mydb.public.orders', /not available/i],
  ['SELECT * FROM pg_class', /not available/i],
  ["SELECT pg_catalog.pg_read_file('/etc/passwd')", /not allowed/i],
  ['SELECT public.lower(name) FROM customers', /public\.lower\(\) is not allowed/],
  ['SELECT pg_sleep(100)', /not allowed/i],
  ["SELECT current_setting('data_directory')", /current_setting\(\) is not allowed/],
  ['SELECT current_user', /current_user is not available/],
  ['SELECT session_user', /session_user is not available/],
  ['SELECT current_database()', /not allowed/],
  ["SELECT 'pg_authid'::regclass", /type regclass cannot be used/],
  ["SELECT CAST('pg_sleep' AS regproc)", /type regproc cannot be used/],
  ["SELECT '1'::pg_catalog.regprocedure", /regprocedure cannot be used/],
  ['SELECT x::public.evil FROM orders', /public\.evil cannot be used/],
  ["SELECT xmlparse(document '<a/>')", /XML expression|not allowed/],
  ['SELECT * FROM orders FOR UPDATE', /FOR UPDATE/],
  ['SELECT * FROM orders TABLESAMPLE system (10)', /TABLESAMPLE/],
  ['SELECT $1', /parameter/],
  ['SELECT 1 OPERATOR(public.+) 2', /operator public\.\+ is not allowed/],
  ['SELECT 1 @@ 2', /operator @@ is not allowed/],
  ['SELECT * FROM orders ORDER BY id USING OPERATOR(public.<)', /operator public\.< is not allowed/],
  ["SELECT E'\\'' || (SELECT rolname FROM pg_roles LIMIT 1)", /not available/i],
  ["SELECT $$'$$ || (SELECT datname FROM pg_database LIMIT 1)", /not available/i],
  ["SELECT $tag$ $$ ' $tag$, (SELECT 1 FROM pg_shadow)", /not available/i],
  ["SELECT U&'\\0027' || (SELECT 1 FROM pg_authid)::text", /not available/i],
  ['SELECT (SELECT 1 FROM pg_authid /* /* nested */ */)', /not available/i],
  ['WITH pg_authid AS (SELECT * FROM pg_authid) SELECT * FROM pg_authid', /not available/i],
  ['SELECT * FROM (WITH pg_authid AS (SELECT 1) SELECT * FROM pg_authid) a, pg_authid', /not available/i],
  ['WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a', /"b" is not available/],
  ['SELECT * FROM orders WHERE id = ANY (SELECT oid FROM pg_proc)', /not available/i],
  ['SELECT (orders).* FROM orders, LATERAL (SELECT * FROM pg_settings) s', /not available/i],
  ['SELECT lower(name) FROM customers WHERE name ~ (SELECT passwd FROM pg_shadow)', /not available/i],
  ['CREATE TABLE t AS SELECT * FROM orders', /only read-only/i],
  ['COPY orders TO STDOUT', /only read-only/i],
  ['SET default_transaction_read_only = off', /only read-only/i],
  ['LOCK TABLE orders', /only read-only/i],
  ["SELECT dblink('host=x', 'select 1')", /dblink\(\) is not allowed/],
  ['SELECT txid_current()', /not allowed/],
  ["SELECT nextval('orders_id_seq')", /nextval\(\) is not allowed/],
  ["SELECT json_populate_record(null::pg_authid, '{}')", /not allowed|cannot be used/],
  ["SELECT pg_catalog.set_config('a.b', 'c', false)", /not allowed/],
  ['SELECT 1 FROM orders WHERE 1 = (SELECT 1 FROM pg_stat_activity)', /not available/i],
];

/** SQLite: what its prepared program does, refused by sqlite-guard.ts. */
const SQLITE: Array<[string, RegExp]> = [
  [BYPASS('SELECT sqlite_version()'), /sqlite_version\(\) is not allowed/],
  [BYPASS('SELECT group_concat(name) FROM pragma_database_list'), /virtual tables|not available/i],
  [BYPASS('SELECT group_concat(compile_options) FROM pragma_compile_options'), /virtual tables/i],
  [BYPASS('SELECT count(*) FROM pragma_function_list'), /virtual tables/i],
  ['SELECT sqlite_version()', /sqlite_version\(\) is not allowed/],
  ['SELECT sqlite_source_id()', /not allowed/],
  ["SELECT sqlite_compileoption_used('ENABLE_FTS5')", /not allowed/],
  ['SELECT * FROM sqlite_master', /"sqlite_schema" is not available|"sqlite_master" is not available/],
  ['SELECT * FROM sqlite_schema', /not available/i],
  ['SELECT * FROM main.sqlite_master', /not available/i],
  ['SELECT * FROM temp.sqlite_master', /not available/i],
  ['SELECT * FROM sqlite_temp_master', /not available/i],
  ['SELECT * FROM temp.orders', /not available/i],
  ['SELECT name FROM pragma_table_list', /virtual tables/i],
  ["SELECT * FROM json_each('[1]')", /virtual tables/i],
  ['SELECT changes(), total_changes()', /not allowed/],
  ['SELECT last_insert_rowid()', /not allowed/],
  ['SELECT * FROM orders WHERE id = ?', /parameters/i],
  ['SELECT * FROM orders WHERE id = :id', /parameters/i],
  ['PRAGMA table_info(orders)', /only read-only/i],
  ['pragma database_list', /only read-only/i],
  ["SELECT fts3_tokenizer('simple')", /is not (allowed|available) in queries/i],
  ['SELECT 1 FROM orders WHERE 1 = (SELECT 1 FROM sqlite_stat1)', /not available/i],
  ['WITH sqlite_master AS (SELECT 1) SELECT * FROM main.sqlite_master', /not available/i],
  ['BEGIN', /only read-only/i],
  ['COMMIT', /only read-only/i],
  ['DETACH DATABASE main', /only read-only/i],
  ['REINDEX', /only read-only/i],
  ['ANALYZE', /only read-only/i],
];

function refusedBy(attempt: () => unknown): Promise<string> {
  return Promise.resolve()
    .then(attempt)
    .then(
      () => {
        throw new Error('accepted');
      },
      (error: unknown) => {
        const refused = error instanceof SqlRefusedError || (error as { refused?: boolean }).refused === true;
        if (!refused) throw error;
        return (error as Error).message;
      },
    );
}

describe('PostgreSQL guard: the statement as PostgreSQL parses it', () => {
  it.each([...BOTH, ...POSTGRES])('refuses %s', async (sql, expected) => {
    expect(await refusedBy(() => guardPostgresSql(sql, allowedTables))).toMatch(expected);
  });

  it.each([...ACCEPTED, ...POSTGRES_ACCEPTED])('accepts %s', async (sql) => {
    await expect(guardPostgresSql(sql, allowedTables)).resolves.toMatchObject({ sql: trimStatement(sql) });
  });

  it('reads the bypass the old guard missed as a sub-select over pg_database', async () => {
    expect(
      await refusedBy(() => guardPostgresSql(BYPASS('SELECT datname FROM pg_database LIMIT 1'), allowedTables)),
    ).toBe(
      'The table "pg_database" is not available. You can query: customers, events, order_items, orders, products.',
    );
  });

  it('reports the tables read, in the order the SQL names them, and not the CTEs', async () => {
    const guarded = await guardPostgresSql(
      'WITH big AS (SELECT * FROM orders) SELECT * FROM customers JOIN big ON true',
      allowedTables,
    );
    expect(guarded.tables).toEqual(['orders', 'customers']);
  });

  it('gives the syntax error position as line and column', async () => {
    expect(await refusedBy(() => guardPostgresSql('SELECT *\nFROM orders WHERE', allowedTables))).toBe(
      'That SQL has a syntax error near line 2, column 18: syntax error at end of input.',
    );
  });

  it('reads the deepest statement the length limit allows without crashing: an answer either way', async () => {
    const depth = Math.floor((MAX_SQL_LENGTH - 10) / 3);
    const deep = `SELECT ${'-('.repeat(depth)}1${')'.repeat(depth)}`;
    const outcome = await guardPostgresSql(deep, allowedTables).then(
      () => 'accepted',
      (error: unknown) => (error instanceof SqlRefusedError ? 'refused' : String(error)),
    );
    expect(['accepted', 'refused']).toContain(outcome);
    const hidden = `SELECT ${'(SELECT '.repeat(1_500)}1 FROM pg_authid${')'.repeat(1_500)}`;
    expect(await refusedBy(() => guardPostgresSql(hidden, allowedTables))).toMatch(
      /not available|nested too deeply|stack depth/,
    );
  });
});

describe('SQLite guard: the program SQLite prepared for the statement', () => {
  let temp: ReturnType<typeof tempDir>;
  let db: Database.Database;
  const guard = sqliteGuardRuntime(SQLITE_GUARD_MESSAGES);
  beforeAll(async () => {
    temp = tempDir();
    await seedDemoData(`file:${temp.dir}/demo.db`, { events: 50 });
    db = new Database(`${temp.dir}/demo.db`, { readonly: true });
  });
  afterAll(() => {
    db.close();
    temp.remove();
  });

  it.each([...BOTH, ...SQLITE])('refuses %s', async (sql, expected) => {
    expect(await refusedBy(() => guard.prepare(db, trimStatement(sql)))).toMatch(expected);
  });

  it.each([...ACCEPTED, ...SQLITE_ACCEPTED])('accepts %s', (sql) => {
    const { statement } = guard.prepare(db, trimStatement(sql));
    expect(statement.reader).toBe(true);
  });

  it('reads the bypass the old guard missed as a read of page 1 (sqlite_schema) and sqlite_version()', async () => {
    expect(await refusedBy(() => guard.prepare(db, BYPASS('SELECT name FROM sqlite_master LIMIT 1')))).toBe(
      'The table "sqlite_schema" is not available. You can query: customers, events, order_items, orders, products.',
    );
  });

  it('names the tables a statement reads, indexes included under their table', () => {
    expect(
      guard
        .prepare(db, 'SELECT c.name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.id = 3')
        .tables.sort(),
    ).toEqual(['customers', 'orders']);
  });

  it("lists the tables users may query, without SQLite's own", () => {
    expect(guard.allowedTables(db)).toEqual(['customers', 'events', 'order_items', 'orders', 'products']);
  });
});

describe('both guards', () => {
  it('refuse an over-long statement before reading it', () => {
    expect(() => trimStatement(`select ${'1,'.repeat(MAX_SQL_LENGTH)}1`)).toThrow(/too long/);
  });
});
