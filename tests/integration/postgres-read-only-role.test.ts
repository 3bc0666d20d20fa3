import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENCODER_OPTIONS } from '@/server/export/encoders';
import { openEncodedFile } from '@/server/export/stream';
import type { DataSource } from '@/server/query/data-source';
import { createPostgresDataSource } from '@/server/query/postgres-source';
import { seedDemoData } from '@/server/seed/seed';
import { createPostgresDatabase, readOnlyRoleUrl } from '../helpers/databases';

// The data source as the README says to deploy it: a role that can only SELECT. Every path the app
// reads through works with it (preview, cursor, COPY), and the database itself refuses writes even
// if a statement got past the SQL guard.
describe('a PostgreSQL data source reached through a read-only role', () => {
  let database: { url: string; drop: () => Promise<void> };
  let readerUrl: string;
  let source: DataSource;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    await seedDemoData(database.url, { events: 2_000 });
    readerUrl = await readOnlyRoleUrl(database.url);
    source = createPostgresDataSource(readerUrl, 30_000);
  });
  afterAll(async () => {
    await source?.close();
    await database?.drop();
  });

  it('previews, streams rows and streams CSV through COPY', async () => {
    const preview = await source.preview('SELECT id, status FROM orders ORDER BY id', 5);
    expect(preview.rows).toHaveLength(5);
    let rows = 0;
    for await (const batch of await source.stream('SELECT * FROM events ORDER BY id')) rows += batch.length;
    expect(rows).toBe(2_000);
    let records = 0;
    const file = await openEncodedFile(
      source,
      'SELECT id, type, occurred_at FROM events ORDER BY id',
      'csv',
      DEFAULT_ENCODER_OPTIONS,
      { query: 'q', title: 't', generatedAt: new Date(0) },
      (count) => (records += count),
    );
    let text = '';
    for await (const chunk of file.chunks) text += Buffer.from(chunk).toString('utf8');
    expect(records).toBe(2_000);
    expect(text.startsWith('id,type,occurred_at\r\n1,')).toBe(true);
  });

  it.each([
    [
      "INSERT INTO orders (id, customer_id, ordered_at, status, total) VALUES (999999, 1, now(), 'paid', 1)",
      /permission denied/,
    ],
    ['UPDATE orders SET total = 0', /permission denied/],
    ['DELETE FROM events', /permission denied/],
    ['CREATE TABLE stolen (id int)', /permission denied/],
    ['DROP TABLE orders', /must be owner/],
    ["COPY (SELECT 1) TO '/tmp/askport-owned.csv'", /permission denied|must be superuser|pg_write_server_files/],
  ])('is refused by the database itself: %s', async (sql, refusal) => {
    const client = new pg.Client({ connectionString: readerUrl });
    await client.connect();
    try {
      await expect(client.query(sql)).rejects.toThrow(refusal);
    } finally {
      await client.end();
    }
  });
});
