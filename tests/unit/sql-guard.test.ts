import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '@/server/errors';
import { guardSql, MAX_SQL_LENGTH, type SqlDialect } from '@/server/query/guard';

const allowedTables = ['customers', 'products', 'orders', 'order_items', 'events'];
const dialects: SqlDialect[] = ['sqlite', 'postgresql'];

function refusal(sql: string, dialect: SqlDialect): string {
  try {
    guardSql(sql, { dialect, allowedTables });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    return (error as Error).message;
  }
  throw new Error(`guard accepted: ${sql}`);
}

// What an attacker (or a confused model) would send. Every one must be refused with a sentence.
const HOSTILE: Array<[string, RegExp]> = [
  ['DELETE FROM orders', /only read-only/i],
  ['delete from orders where 1=1', /only read-only/i],
  ['UPDATE orders SET total = 0', /only read-only/i],
  ['INSERT INTO orders (id) VALUES (1)', /only read-only/i],
  ['insert into orders select * from orders', /only read-only/i],
  ['DROP TABLE orders', /only read-only|syntax/i],
  ['CREATE TABLE evil (id int)', /only read-only|syntax/i],
  ['ALTER TABLE orders ADD COLUMN x int', /only read-only|syntax/i],
  ['SELECT 1; DROP TABLE orders', /one statement|only read-only/i],
  ['SELECT * FROM orders; SELECT * FROM customers', /one statement/i],
  ['select 1;;select 2', /one statement|syntax/i],
  ['WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d', /syntax|only read-only/i],
  ['SELECT * FROM "User"', /not available/i],
  ['SELECT * FROM Session', /not available|syntax/i],
  ['SELECT * FROM sqlite_master', /not available/i],
  ['SELECT * FROM sqlite_schema', /not available/i],
  ['SELECT * FROM pg_catalog.pg_user', /not available/i],
  ['SELECT * FROM information_schema.tables', /not available/i],
  ['SELECT * FROM other_db.orders', /not available/i],
  ['SELECT id FROM orders UNION SELECT id FROM "User"', /not available/i],
  ['SELECT (SELECT count(*) FROM "Session") FROM orders', /not available/i],
  ['SELECT * FROM orders WHERE customer_id IN (SELECT id FROM users)', /not available/i],
  ['SELECT * FROM orders o JOIN "Export" e ON e.id = o.id', /not available/i],
  ['WITH x AS (SELECT * FROM "Message") SELECT * FROM x', /not available/i],
  ["SELECT * FROM pragma_table_info('orders')", /table functions|not available/i],
  ["SELECT load_extension('/tmp/evil.so')", /not allowed/i],
  ["SELECT pg_read_file('/etc/passwd')", /not allowed/i],
  ["SELECT pg_catalog.pg_read_file('/etc/passwd')", /not allowed/i],
  ['SELECT pg_sleep(100)', /not allowed/i],
  ["SELECT set_config('default_transaction_read_only', 'off', false)", /not allowed/i],
  ["SELECT readfile('/etc/passwd')", /not allowed/i],
  ['SELECT * INTO stolen FROM orders', /into|syntax/i],
  ["ATTACH DATABASE '/tmp/x.db' AS x", /only read-only|syntax/i],
  ['PRAGMA writable_schema = 1', /only read-only|syntax/i],
  ['VACUUM', /only read-only|syntax/i],
  ['SELEC * FROM orders', /syntax/i],
  ['   ', /empty/i],
  [';', /empty|syntax/i],
  ['-- just a comment', /syntax|empty/i],
];

describe('SQL guard', () => {
  it('has a hostile list of at least 25 inputs', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(25);
  });

  for (const dialect of dialects) {
    describe(dialect, () => {
      it.each(HOSTILE)('refuses %s', (sql, expected) => {
        expect(refusal(sql, dialect)).toMatch(expected);
      });

      it('accepts a plain SELECT and reports its tables', () => {
        expect(guardSql('select * from orders', { dialect, allowedTables })).toEqual({ sql: 'select * from orders', tables: ['orders'] });
      });

      it('accepts WITH, joins, subqueries and aggregates over allowed tables', () => {
        const sql = `WITH big AS (SELECT * FROM orders WHERE total > 500)
          SELECT c.name, count(*) AS n, sum(b.total) FROM big b JOIN customers c ON c.id = b.customer_id
          WHERE c.id IN (SELECT customer_id FROM events) GROUP BY c.name ORDER BY n DESC LIMIT 10`;
        const guarded = guardSql(sql, { dialect, allowedTables });
        expect(guarded.tables.sort()).toEqual(['customers', 'events', 'orders']);
      });

      it('treats table names case-insensitively and strips one trailing semicolon', () => {
        expect(guardSql('SELECT * FROM Orders;', { dialect, allowedTables }).sql).toBe('SELECT * FROM Orders');
      });

      it('names the tables that can be queried when one is not allowed', () => {
        expect(refusal('select * from secrets', dialect)).toBe('The table "secrets" is not available. You can query: customers, events, order_items, orders, products.');
      });

      it('refuses an over-long statement before parsing it', () => {
        expect(refusal(`select ${'1,'.repeat(MAX_SQL_LENGTH)}1`, dialect)).toMatch(/too long/);
      });
    });
  }

  it('accepts a schema-qualified allowed table in the default schema only', () => {
    expect(guardSql('select * from main.orders', { dialect: 'sqlite', allowedTables }).tables).toEqual(['orders']);
    expect(guardSql('select * from public.orders', { dialect: 'postgresql', allowedTables }).tables).toEqual(['orders']);
    expect(refusal('select * from temp.orders', 'sqlite')).toMatch(/not available/);
  });

  it('gives the syntax error position, not the parser internals', () => {
    const message = refusal('SELECT * FROM orders WHERE', 'sqlite');
    expect(message).toMatch(/^That SQL has a syntax error near line 1, column \d+\./);
    expect(message).not.toMatch(/Expected/);
  });
});
