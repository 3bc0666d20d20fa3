import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryTimeoutError, type CellValue, type DataSource } from '@/server/query/data-source';
import { openDataSource } from '@/server/query/sources';
import { DEFAULT_ENCODER_OPTIONS } from '@/server/export/encoders';
import { SqlRefusedError } from '@/server/query/guard';
import { seedDemoData } from '@/server/seed/seed';
import { seededDemoDatabase, tempDir } from '../helpers/databases';

const EVENTS = 4_321;
const SLOW_QUERY: Record<'sqlite' | 'postgresql', string> = {
  // Never ends on its own: only the statement timeout stops it.
  sqlite: 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r',
  postgresql: 'SELECT count(*) FROM events a, events b, events c',
};

describe.each(['sqlite', 'postgresql'] as const)('data source on %s', (dialect) => {
  let dataSource: DataSource;
  let fastTimeout: DataSource;
  let database: Awaited<ReturnType<typeof seededDemoDatabase>>;

  beforeAll(async () => {
    database = await seededDemoDatabase(dialect, EVENTS);
    dataSource = openDataSource(database.readerUrl, 10_000);
    fastTimeout = openDataSource(database.readerUrl, 400);
  });
  afterAll(async () => {
    await dataSource.close();
    await fastTimeout.close();
    await database.remove();
  });

  it('lists the demo tables as the allow-list', async () => {
    expect(await dataSource.listTables()).toEqual(['customers', 'events', 'order_items', 'orders', 'products']);
  });

  it('previews the first rows with the total count and column kinds', async () => {
    const preview = await dataSource.preview('SELECT id, amount, description FROM events ORDER BY id', 100);
    expect(preview.totalRows).toBe(EVENTS);
    expect(preview.rows).toHaveLength(100);
    expect(preview.columns).toEqual([
      { name: 'id', kind: 'integer' },
      { name: 'amount', kind: 'decimal' },
      { name: 'description', kind: 'text' },
    ]);
  });

  it('streams every row in batches of the requested size, in order', async () => {
    const stream = await dataSource.stream('SELECT id FROM events ORDER BY id', { batchSize: 1_000 });
    const sizes: number[] = [];
    const ids: number[] = [];
    for await (const batch of stream) {
      sizes.push(batch.length);
      for (const row of batch) ids.push(Number(row[0]));
    }
    expect(sizes).toEqual([1_000, 1_000, 1_000, 1_000, 321]);
    expect(ids).toEqual(Array.from({ length: EVENTS }, (_, index) => index + 1));
  });

  it('takes fewer rows per batch when rows are large, so a batch holds megabytes, not gigabytes', async () => {
    const sql =
      dialect === 'sqlite'
        ? "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) SELECT i, replace(hex(zeroblob(500000)), '0', 'x') AS v FROM n"
        : "SELECT i, repeat('x', 1000000) AS v FROM generate_series(1, 60) AS n(i)";
    const sizes: number[] = [];
    for await (const batch of await dataSource.stream(sql, { batchSize: 1_000 })) sizes.push(batch.length);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(60);
    // 1 MB rows: at most 16 at first, then about 8 MB a batch.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(Math.max(...sizes.slice(1))).toBeLessThanOrEqual(9);
  });

  it('carries 64-bit integers, blobs and special floats without loss', async () => {
    const sql =
      dialect === 'sqlite'
        ? "SELECT 9007199254740993 AS big, -9223372036854775808 AS min, x'00ff10' AS blob, 12 AS small"
        : "SELECT 9007199254740993::int8 AS big, (-9223372036854775808)::int8 AS min, '\\x00ff10'::bytea AS blob, 12 AS small";
    const expectedBig =
      dialect === 'sqlite' ? [9007199254740993n, -9223372036854775808n] : ['9007199254740993', '-9223372036854775808'];
    const preview = await dataSource.preview(sql, 1);
    expect(preview.rows[0]?.slice(0, 2)).toEqual(expectedBig);
    expect(Array.from(preview.rows[0]?.[2] as Uint8Array)).toEqual([0, 255, 16]);
    expect(preview.rows[0]?.[3]).toBe(12);
    const stream = await dataSource.stream(sql);
    for await (const batch of stream) expect(batch[0]?.slice(0, 2)).toEqual(expectedBig);
  });

  it('keeps a 64-bit integer exact when it first appears deep in a stream', async () => {
    // SQLite reads plain numbers until a value reaches 2^53, then re-reads exactly from where it was.
    const sql =
      dialect === 'sqlite'
        ? 'SELECT id, CASE WHEN id = 2500 THEN 9007199254740993 WHEN id = 2501 THEN 1e300 ELSE id * 2 END AS v FROM events ORDER BY id'
        : 'SELECT id, CASE WHEN id = 2500 THEN 9007199254740993 ELSE id * 2 END::int8 AS v FROM events ORDER BY id';
    const rows: CellValue[][] = [];
    for await (const batch of await dataSource.stream(sql, { batchSize: 1_000 })) rows.push(...batch);
    expect(rows.map((row) => Number(row[0]))).toEqual(Array.from({ length: EVENTS }, (_, index) => index + 1));
    expect(rows[2_499]?.[1]).toEqual(dialect === 'sqlite' ? 9007199254740993n : '9007199254740993');
    if (dialect === 'sqlite') expect(rows[2_500]?.[1]).toBe(1e300);
    expect(Number(rows[4_000]?.[1])).toBe(8_002);
  });

  it('gives timestamps as ISO 8601 UTC text with every fractional digit', async () => {
    const sql =
      dialect === 'sqlite'
        ? "SELECT '2026-01-02T03:04:05.123456Z' AS at"
        : "SELECT '2026-01-02 05:04:05.123456+02'::timestamptz AS at, '2026-01-02 03:04:05'::timestamp AS naive";
    const preview = await dataSource.preview(sql, 1);
    expect(preview.rows[0]?.[0]).toBe('2026-01-02T03:04:05.123456Z');
    if (dialect === 'postgresql') {
      expect(preview.rows[0]?.[1]).toBe('2026-01-02T03:04:05');
      expect(preview.columns.map((column) => column.kind)).toEqual(['timestamp', 'timestamp']);
    }
  });

  it('keeps decimals exact', async () => {
    const preview = await dataSource.preview(
      'SELECT amount FROM events WHERE amount IS NOT NULL ORDER BY id LIMIT 50',
      50,
    );
    for (const [amount] of preview.rows) expect(String(amount)).toMatch(/^-?\d+(\.\d{1,2})?$/);
  });

  it('stops a query that runs past the statement timeout, with a sentence', async () => {
    const started = Date.now();
    await expect(fastTimeout.preview(SLOW_QUERY[dialect], 10)).rejects.toThrow(QueryTimeoutError);
    expect(Date.now() - started).toBeLessThan(8_000);
    // The source still answers afterwards.
    expect((await fastTimeout.preview('SELECT 1 AS one', 1)).rows).toEqual([[1]]);
  });

  it('guards every statement it is handed itself, so no caller can skip the guard', async () => {
    await expect(dataSource.preview('DELETE FROM orders', 10)).rejects.toThrow(SqlRefusedError);
    await expect(dataSource.stream("UPDATE orders SET status = 'hacked'")).rejects.toThrow(SqlRefusedError);
    await expect(
      dataSource.streamEncoded!('SELECT * FROM orders; DELETE FROM orders', {
        format: 'csv',
        options: DEFAULT_ENCODER_OPTIONS,
        metadata: { query: 'q', title: 't', generatedAt: new Date(0) },
      }),
    ).rejects.toThrow(SqlRefusedError);
    expect(
      (await dataSource.preview("SELECT count(*) AS n FROM orders WHERE status = 'hacked'", 1)).rows[0]?.map(Number),
    ).toEqual([0]);
  });

  it('releases the cursor when the reader stops early', async () => {
    for (let attempt = 0; attempt < 15; attempt++) {
      const stream = await dataSource.stream('SELECT * FROM events', { batchSize: 10 });
      for await (const batch of stream) {
        expect(batch).toHaveLength(10);
        break;
      }
    }
    // More early exits than the PostgreSQL pool has connections: none leaked.
    expect((await dataSource.preview('SELECT count(*) AS n FROM products', 1)).totalRows).toBe(1);
  });
});

describe('SQLite data source worker', () => {
  it('keeps the server responsive while a slow query runs', async () => {
    const temp = tempDir();
    await seedDemoData(`file:${temp.dir}/demo.db`, { events: 10 });
    const source = openDataSource(`file:${temp.dir}/demo.db`, 600);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    await expect(source.preview(SLOW_QUERY.sqlite, 1)).rejects.toThrow(QueryTimeoutError);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
    temp.remove();
  });
});
