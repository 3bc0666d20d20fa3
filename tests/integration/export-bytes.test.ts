import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportFormat } from '@/lib/export-request';
import { DEFAULT_ENCODER_OPTIONS } from '@/server/export/encoders';
import { encodeFile, openEncodedFile } from '@/server/export/stream';
import type { DataSource } from '@/server/query/data-source';
import { openDataSource } from '@/server/query/sources';
import { seededDemoDatabase } from '../helpers/databases';

const SQL = 'SELECT * FROM events ORDER BY id';
const metadata = { query: SQL, title: 'events', generatedAt: new Date(0) };

async function render(dataSource: DataSource, format: ExportFormat, batchSize: number): Promise<Buffer> {
  const rows = await dataSource.stream(SQL, { batchSize });
  const parts: Uint8Array[] = [];
  for await (const chunk of encodeFile(format, rows, DEFAULT_ENCODER_OPTIONS, metadata, () => undefined))
    parts.push(chunk);
  return Buffer.concat(parts);
}

// Same data, same bytes: the output does not depend on how the cursor batches rows.
describe.each(['sqlite', 'postgresql'] as const)('export bytes from %s do not depend on batch size', (dialect) => {
  let dataSource: DataSource;
  let database: Awaited<ReturnType<typeof seededDemoDatabase>>;
  beforeAll(async () => {
    database = await seededDemoDatabase(dialect, 1_500);
    dataSource = openDataSource(database.readerUrl, 30_000);
  });
  afterAll(async () => {
    await dataSource.close();
    await database.remove();
  });

  it.each(['csv', 'json', 'xlsx'] as const)('%s with batches of 1, 7 and 1,000 rows', async (format) => {
    const reference = await render(dataSource, format, 1_000);
    // XLSX is compressed, so its floor is lower.
    expect(reference.byteLength).toBeGreaterThan(format === 'xlsx' ? 20_000 : 50_000);
    expect((await render(dataSource, format, 7)).equals(reference)).toBe(true);
    expect((await render(dataSource, format, 1)).equals(reference)).toBe(true);
  });

  it.each(['csv', 'json'] as const)('%s from the fast path (the data source encodes)', async (format) => {
    const file = await openEncodedFile(dataSource, SQL, format, DEFAULT_ENCODER_OPTIONS, metadata, () => undefined);
    const parts: Uint8Array[] = [];
    for await (const chunk of file.chunks) parts.push(chunk);
    expect(Buffer.concat(parts).equals(await render(dataSource, format, 1_000))).toBe(true);
  });
});
