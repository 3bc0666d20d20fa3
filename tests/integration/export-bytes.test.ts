import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportFormat } from '@/lib/export-request';
import { DEFAULT_ENCODER_OPTIONS } from '@/server/export/encoders';
import { encodeFile } from '@/server/export/stream';
import type { DataSource } from '@/server/query/data-source';
import { openDataSource } from '@/server/query/sources';
import { seedDemoData } from '@/server/seed/seed';
import { createPostgresDatabase, tempDir } from '../helpers/databases';

const SQL = 'SELECT * FROM events ORDER BY id';
const metadata = { query: SQL, title: 'events', generatedAt: new Date(0) };

async function render(dataSource: DataSource, format: ExportFormat, batchSize: number): Promise<Buffer> {
  const rows = await dataSource.stream(SQL, { batchSize });
  const parts: Uint8Array[] = [];
  for await (const chunk of encodeFile(format, rows, DEFAULT_ENCODER_OPTIONS, metadata, () => undefined)) parts.push(chunk);
  return Buffer.concat(parts);
}

// Same data, same bytes: the output does not depend on how the cursor batches rows.
describe.each(['sqlite', 'postgresql'] as const)('export bytes from %s do not depend on batch size', (dialect) => {
  let dataSource: DataSource;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    let url: string;
    if (dialect === 'sqlite') {
      const temp = tempDir();
      cleanups.push(temp.remove);
      url = `file:${temp.dir}/demo.db`;
    } else {
      const database = await createPostgresDatabase();
      cleanups.push(database.drop);
      url = database.url;
    }
    await seedDemoData(url, { events: 1_500 });
    dataSource = openDataSource(url, 30_000);
  });
  afterAll(async () => {
    await dataSource.close();
    for (const cleanup of cleanups) await cleanup();
  });

  it.each(['csv', 'json'] as const)('%s with batches of 1, 7 and 1,000 rows', async (format) => {
    const reference = await render(dataSource, format, 1_000);
    expect(reference.byteLength).toBeGreaterThan(50_000);
    expect((await render(dataSource, format, 7)).equals(reference)).toBe(true);
    expect((await render(dataSource, format, 1)).equals(reference)).toBe(true);
  });
});
