import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENCODER_OPTIONS } from '@/server/export/encoders';
import { DataSourceUnavailableError, type DataSource } from '@/server/query/data-source';
import { createPostgresDataSource } from '@/server/query/postgres-source';
import { seedDemoData } from '@/server/seed/seed';
import { createPostgresDatabase, readOnlyRoleUrl } from '../helpers/databases';

// PostgreSQL ends a session (a restart, an administrator, a crash) in the middle of a stream: the
// export fails at once with a sentence instead of hanging on the dead connection, the process does
// not crash on the connection's 'error' event, and the next query gets a fresh connection.
describe('a PostgreSQL data source that loses its connection', () => {
  let database: { url: string; drop: () => Promise<void> };
  let source: DataSource;
  let admin: pg.Client;
  beforeAll(async () => {
    database = await createPostgresDatabase();
    await seedDemoData(database.url, { events: 5_000 });
    source = createPostgresDataSource(await readOnlyRoleUrl(database.url), 30_000);
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await source?.close();
    await database?.drop();
  });

  /** Ends every other session on the data source's database, as a restart does. */
  async function terminateSessions(): Promise<number> {
    const result = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return result.rowCount ?? 0;
  }

  it('fails a cursor stream with a sentence when its session is terminated mid-way', async () => {
    const stream = await source.stream('SELECT * FROM events ORDER BY id', { batchSize: 100 });
    let rows = 0;
    let terminated = false;
    const consume = async () => {
      for await (const batch of stream) {
        rows += batch.length;
        if (rows >= 100 && !terminated) {
          terminated = true;
          expect(await terminateSessions()).toBeGreaterThan(0);
        }
      }
    };
    const failure = await consume().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DataSourceUnavailableError);
    expect((failure as Error).message).toBe('The connection to the database was lost. Please try again in a moment.');
    expect(rows).toBeLessThan(5_000);
  });

  it('fails the COPY fast path the same way', async () => {
    // Two million rows: far more than the network buffers, so the termination lands mid-COPY.
    const encoded = await source.streamEncoded?.('SELECT g AS a, g AS b FROM generate_series(1, 2000000) AS g', {
      format: 'csv',
      options: DEFAULT_ENCODER_OPTIONS,
      metadata: { query: 'generate_series', title: 't', generatedAt: new Date(0) },
    });
    if (!encoded) throw new Error('expected the COPY path for this query');
    let chunks = 0;
    const consume = async () => {
      for await (const _chunk of encoded) if (++chunks === 2) await terminateSessions();
    };
    const failure = await consume().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(DataSourceUnavailableError);
  });

  it('survives idle connections being terminated and answers the next query', async () => {
    await source.preview('SELECT id FROM events ORDER BY id', 10);
    await terminateSessions();
    // Give the pool's idle connection time to receive the termination.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const preview = await source.preview('SELECT id FROM events ORDER BY id', 3);
    expect(preview.rows).toEqual([[1], [2], [3]]);
  });
});
