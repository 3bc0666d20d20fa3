import Database from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportFormat } from '@/lib/export-request';
import { DEFAULT_ENCODER_OPTIONS, type EncoderOptions } from '@/server/export/encoders';
import { encodeFile, openEncodedFile } from '@/server/export/stream';
import type { DataSource } from '@/server/query/data-source';
import { createPostgresDataSource } from '@/server/query/postgres-source';
import { createSqliteDataSource } from '@/server/query/sqlite-source';
import { createPostgresDatabase, readOnlyRoleUrl, tempDir } from '../helpers/databases';

// The fast paths — SQLite's query process encoding some batches, PostgreSQL rewriting values in SQL
// for COPY's CSV — must give exactly the bytes of the row path (values through
// the encoders in the server). Both render the same hostile values here.

const metadata = { query: 'SELECT …', title: 't', generatedAt: new Date(0) };

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function rowPath(
  dataSource: DataSource,
  sql: string,
  format: ExportFormat,
  options: EncoderOptions,
): Promise<Buffer> {
  return collect(encodeFile(format, await dataSource.stream(sql), options, metadata, () => undefined));
}

async function fastPath(
  dataSource: DataSource,
  sql: string,
  format: ExportFormat,
  options: EncoderOptions,
): Promise<{ bytes: Buffer; rows: number }> {
  let rows = 0;
  const file = await openEncodedFile(dataSource, sql, format, options, metadata, (count) => (rows += count));
  return { bytes: await collect(file.chunks), rows };
}

async function expectSameBytes(
  dataSource: DataSource,
  queries: string[],
  format: ExportFormat,
  options: EncoderOptions,
): Promise<void> {
  for (const sql of queries) {
    const fast = await fastPath(dataSource, sql, format, options);
    const reference = await rowPath(dataSource, sql, format, options);
    expect(fast.bytes.toString('utf8'), sql).toBe(reference.toString('utf8'));
    expect(fast.bytes.equals(reference), sql).toBe(true);
  }
}

const HOSTILE_TEXT = [
  // Plain numbers as text are never neutralised; a sign before anything else is.
  '-2327.54',
  '+1e5',
  '-.5',
  '+1 555 0100',
  '-',
  'plain',
  '',
  ' leading and trailing ',
  'comma, inside',
  'quote " inside',
  '"quoted"',
  'line\nbreak',
  'carriage\rreturn',
  'crlf\r\nend',
  'tab\tinside',
  '=SUM(A1:A9)',
  '+1',
  '-1',
  '-abc',
  '@cmd',
  '\tstarts with tab',
  '\rstarts with CR',
  "'already",
  'Ünïcödé ß',
  'emoji 🚀 launch',
  '日本語',
  '\\backslash\\',
  'a,"b"\r\nc',
  '=',
  ',',
  '"',
  '\\.',
];
const OPTION_SETS: Array<[string, EncoderOptions]> = [
  ['default options', DEFAULT_ENCODER_OPTIONS],
  [
    'formulas kept, a BOM, JSON metadata and big integers as text',
    { neutraliseFormulas: false, csvByteOrderMark: true, includeMetadata: true, jsonBigIntegersAsText: true },
  ],
];

describe('SQLite: batches encoded by the query process give the row path bytes', () => {
  const temp = tempDir();
  const file = path.join(temp.dir, 'hostile.db');
  let dataSource: DataSource;

  beforeAll(() => {
    const db = new Database(file);
    db.exec(
      'CREATE TABLE hostile (id INTEGER PRIMARY KEY, label TEXT, amount DECIMAL(14,2), ratio REAL, counter INTEGER, payload BLOB, loose)',
    );
    const insert = db.prepare(
      'INSERT INTO hostile (label, amount, ratio, counter, payload, loose) VALUES (?, ?, ?, ?, ?, ?)',
    );
    db.defaultSafeIntegers(true);
    const reals = [
      0,
      -0,
      5,
      0.1,
      0.30000000000000004,
      1 / 3,
      1e-7,
      1e21,
      -2327.54,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Infinity,
      -Infinity,
    ];
    const numericTexts = ['-12.5', '-12', '-abc', '=1', '+5', '12.', '-.5', '1e5', '@'];
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let index = 0; index < 3_500; index++) {
      const label = HOSTILE_TEXT[index % HOSTILE_TEXT.length]!;
      const amount =
        index % 11 === 0
          ? numericTexts[index % numericTexts.length]!
          : index % 7 === 0
            ? null
            : Math.round((random() - 0.5) * 1e7) / 100;
      const ratio = index < reals.length ? reals[index]! : (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      // Exact 64-bit integers first appear in the third batch: the process re-reads them exactly.
      const counter =
        index === 2_345
          ? 2n ** 63n - 1n
          : index === 2_346
            ? -(2n ** 63n)
            : index === 3_001
              ? 9007199254740993n
              : BigInt(index * 37);
      const payload = index % 5 === 0 ? Buffer.from([index % 256, 0, 255, 10, 13]) : null;
      const loose = [label, counter, ratio, payload, null][index % 5] ?? null;
      insert.run(label, amount, ratio, counter, payload, loose);
    }
    db.close();
    dataSource = createSqliteDataSource(file, 30_000);
  });
  afterAll(async () => {
    await dataSource.close();
    temp.remove();
  });

  const QUERIES = [
    'SELECT * FROM hostile ORDER BY id',
    'SELECT id, id, label AS "a,b", label FROM hostile ORDER BY id DESC',
    'WITH x AS (SELECT label || ratio AS mixed, amount * 2 AS doubled, NULL AS empty FROM hostile WHERE id % 3 = 0) SELECT * FROM x',
    'SELECT label FROM hostile WHERE 1 = 0',
  ];

  it.each(OPTION_SETS)('csv and json, %s', async (_, options) => {
    await expectSameBytes(dataSource, QUERIES, 'csv', options);
    await expectSameBytes(dataSource, QUERIES, 'json', options);
  });

  it('counts every row and keeps 64-bit integers exact', async () => {
    const fast = await fastPath(
      dataSource,
      'SELECT id, counter FROM hostile ORDER BY id',
      'json',
      DEFAULT_ENCODER_OPTIONS,
    );
    expect(fast.rows).toBe(3_500);
    const text = fast.bytes.toString('utf8');
    expect(text).toContain('"counter":9223372036854775807}');
    expect(text).toContain('"counter":-9223372036854775808}');
    expect(text).toContain('"counter":9007199254740993}');
  });

  it('reports SQL errors before any byte', async () => {
    await expect(
      openEncodedFile(
        dataSource,
        'SELECT nope FROM hostile',
        'csv',
        DEFAULT_ENCODER_OPTIONS,
        metadata,
        () => undefined,
      ),
    ).rejects.toThrow(/no such column/);
  });
});

describe('PostgreSQL: CSV records formatted by the database and sent with COPY give the row path bytes', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query(`CREATE TABLE hostile (
      id serial PRIMARY KEY, label text, short varchar(40), flag boolean, payload bytea, small smallint, counter bigint,
      amount numeric(20, 4), loose_amount numeric, day date, local_time timestamp, moment timestamptz)`);
    const numerics = ['0', '-12.5', '123456789012345678901234.5', 'NaN', '-1e-10', '-Infinity', 'Infinity'];
    const days = ['2025-01-01', '0044-03-15 BC', 'infinity', '-infinity'];
    const times = [
      '2025-01-01 10:00:00',
      '2025-06-30 23:59:59.123456',
      'infinity',
      '-infinity',
      '1999-12-31 23:59:59.5',
    ];
    const zones = [
      '2025-01-01 10:00:00+02',
      '2025-06-30 23:59:59.123456+00',
      'infinity',
      '-infinity',
      '0044-03-15 12:00:00+00 BC',
    ];
    for (let index = 0; index < 600; index++) {
      const label = HOSTILE_TEXT[index % HOSTILE_TEXT.length]!;
      await client.query(
        'INSERT INTO hostile (label, short, flag, payload, small, counter, amount, loose_amount, day, local_time, moment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
        index % 13 === 12
          ? [null, null, null, null, null, null, null, null, null, null, null]
          : [
              label,
              label.slice(0, 40),
              index % 3 === 0 ? null : index % 2 === 0,
              // Bytes, empty bytes ("" on both paths, like an empty string) and NULL.
              index % 4 === 0 ? Buffer.alloc(90, index) : index % 4 === 1 ? Buffer.alloc(0) : null,
              -index,
              (index % 2 ? '-' : '') + String(2n ** 62n + BigInt(index)),
              (index - 300) / 7,
              numerics[index % numerics.length],
              days[index % days.length],
              times[index % times.length],
              zones[index % zones.length],
            ],
      );
    }
    await client.end();
    dataSource = createPostgresDataSource(await readOnlyRoleUrl(database.url), 30_000);
  });
  afterAll(async () => {
    await dataSource.close();
    await database.drop();
  });

  const QUERIES = [
    'SELECT * FROM hostile ORDER BY id',
    'SELECT id, id, label AS "a,b", moment::date AS day FROM hostile ORDER BY id DESC -- a trailing comment',
    'WITH x AS (SELECT label || counter AS mixed, amount * 2 AS doubled, NULL::text AS empty FROM hostile WHERE id % 3 = 0) SELECT * FROM x',
    'SELECT label FROM hostile WHERE false',
  ];

  it.each(OPTION_SETS)('%s', async (_, options) => {
    await expectSameBytes(dataSource, QUERIES, 'csv', options);
  });

  it('takes the fast path (COPY) for these types, counts every row, and keeps float columns on the cursor', async () => {
    const csv = { format: 'csv' as const, options: DEFAULT_ENCODER_OPTIONS, metadata };
    const lines = await dataSource.streamEncoded!('SELECT * FROM hostile ORDER BY id', csv);
    expect(lines).not.toBeNull();
    let rows = 0;
    for await (const batch of lines!) rows += batch.rows;
    expect(rows).toBe(600);
    expect(await dataSource.streamEncoded!('SELECT id, 1.5::float8 AS ratio FROM hostile', csv)).toBeNull();
    expect(await dataSource.streamEncoded!('SELECT * FROM hostile', { ...csv, format: 'json' })).toBeNull();
    // COPY would quote a lone \. in a one-column file; those take the cursor.
    expect(await dataSource.streamEncoded!('SELECT label FROM hostile', csv)).toBeNull();
    expect(
      (await fastPath(dataSource, "SELECT '\\.' AS dot FROM hostile", 'csv', DEFAULT_ENCODER_OPTIONS)).bytes.toString(),
    ).toContain('\r\n\\.\r\n');
    const floats = await fastPath(
      dataSource,
      'SELECT id, id / 3.0::float8 AS ratio, 1e-7::float8 AS tiny FROM hostile ORDER BY id',
      'csv',
      DEFAULT_ENCODER_OPTIONS,
    );
    expect(floats.rows).toBe(600);
  });

  it('reports SQL errors before any byte, including errors raised while copying', async () => {
    await expect(
      openEncodedFile(
        dataSource,
        'SELECT nope FROM hostile',
        'csv',
        DEFAULT_ENCODER_OPTIONS,
        metadata,
        () => undefined,
      ),
    ).rejects.toThrow(/nope/);
    await expect(
      openEncodedFile(
        dataSource,
        'SELECT 1 / (id - 5) AS boom FROM hostile ORDER BY id',
        'csv',
        DEFAULT_ENCODER_OPTIONS,
        metadata,
        () => undefined,
      ),
    ).rejects.toThrow(/division by zero/);
  });
});
