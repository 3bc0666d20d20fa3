import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportFormat } from '@/lib/export-request';
import type { AppServices } from '@/server/app-services';
import { DEFAULT_ENCODER_OPTIONS } from '@/server/export/encoders';
import { planExport } from '@/server/export/plan';
import { startExportDownload } from '@/server/export/service';
import { zipQueryResults } from '@/server/export/zip';
import { createInProcessExportJobs } from '@/server/jobs/export-jobs';
import { updatePreferences } from '@/server/preferences/service';
import { openDataSource } from '@/server/query/sources';
import { createTestApp, readOnlyRoleUrl, type TestApp, TEST_JOB_OPTIONS, tempDir } from '../helpers/databases';
import { newUser } from '../helpers/users';

// Files that open right: every PostgreSQL type in every format by both delivery paths, and awkward
// values read back with the readers people use (Python's csv and json, pandas, openpyxl).

const PYTHON = '/usr/bin/python3';
const READER = path.join(process.cwd(), 'tests', 'helpers', 'read-exports.py');
type Cell = string | number | boolean | Date | null;

async function bodyBytes(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(body).arrayBuffer());
}

async function xlsxRows(bytes: Buffer): Promise<Cell[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const rows: Cell[][] = [];
  workbook.worksheets[0]!.eachRow({ includeEmpty: true }, (row) => {
    rows.push((row.values as Cell[]).slice(1));
  });
  return rows;
}

/** One export of `sql`, by a stream or by a job, as the bytes the person downloads. */
async function exportOf(
  services: AppServices,
  user: { id: string; email: string; name: string },
  sql: string,
  format: ExportFormat,
  delivery: 'stream' | 'file',
): Promise<Buffer> {
  const { record } = await planExport(services, user, {
    contents: { sql },
    format,
    archive: false,
    chatId: null,
    streamOnly: true,
  });
  if (delivery === 'file') {
    await services.db.export.update({ where: { id: record.id }, data: { delivery: 'file' } });
    services.jobs.enqueue(record.id);
    for (let wait = 0; wait < 200; wait++) {
      const state = await services.db.export.findUniqueOrThrow({ where: { id: record.id } });
      if (state.status === 'succeeded') break;
      if (state.status === 'failed') throw new Error(`job failed: ${state.error}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return bodyBytes((await startExportDownload(services, user, record.id)).body);
}

// Every built-in type family: [column type, literal, the text CSV and JSON carry, how XLSX holds it].
const TYPES: Array<[string, string, string, 'text' | 'number' | 'date' | 'boolean']> = [
  ['boolean', 'true', 'true', 'boolean'],
  ['smallint', "'-32768'", '-32768', 'number'],
  ['integer', '2147483647', '2147483647', 'number'],
  ['bigint', '9007199254740993', '9007199254740993', 'text'],
  ['numeric(38,10)', '1234567890123456789012345678.0123456789', '1234567890123456789012345678.0123456789', 'text'],
  ['numeric', "'NaN'", 'NaN', 'text'],
  ['numeric', "'Infinity'", 'Infinity', 'text'],
  ['numeric', '0.00000000000000000000000000001', '0.00000000000000000000000000001', 'number'],
  ['real', '1.5', '1.5', 'number'],
  ['double precision', "'-Infinity'", '-Infinity', 'text'],
  ['double precision', "'NaN'", 'NaN', 'text'],
  ['money', '12.34', '$12.34', 'text'],
  ['text', "'-2327.54'", '-2327.54', 'text'],
  ['varchar(10)', "'café'", 'café', 'text'],
  ['char(4)', "'ab'", 'ab  ', 'text'],
  ['bytea', "'\\x'::bytea", '', 'text'],
  ['date', "'2025-02-03'", '2025-02-03', 'date'],
  ['time', "'04:05:06.789'", '04:05:06.789', 'date'],
  ['timetz', "'04:05:06+02'", '04:05:06+02', 'text'],
  ['timestamp', "'2025-02-03 04:05:06.123456'", '2025-02-03T04:05:06.123456', 'date'],
  ['timestamptz', "'2025-02-03 04:05:06+00'", '2025-02-03T04:05:06Z', 'date'],
  ['interval', "'1 day 02:03:04'", '1 day 02:03:04', 'text'],
  ['json', `'{"b": [1, 2], "a": null}'`, '{"b": [1, 2], "a": null}', 'text'],
  ['jsonb', `'{"b": [1, 2], "a": null}'`, '{"a": null, "b": [1, 2]}', 'text'],
  ['integer[]', "'{1,2,3}'", '{1,2,3}', 'text'],
  ['text[]', `'{"a b",NULL}'`, '{"a b",NULL}', 'text'],
  ['uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'text'],
  ['inet', "'192.168.0.1/24'", '192.168.0.1/24', 'text'],
  ['cidr', "'10.0.0.0/8'", '10.0.0.0/8', 'text'],
  ['macaddr', "'08:00:2b:01:02:03'", '08:00:2b:01:02:03', 'text'],
  ['point', "'(1.5,2)'", '(1.5,2)', 'text'],
  ['box', "'((1,2),(0,0))'", '(1,2),(0,0)', 'text'],
  ['circle', "'<(1,2),3>'", '<(1,2),3>', 'text'],
  ['int4range', "'[1,5)'", '[1,5)', 'text'],
  ['tsvector', "'a fat cat'", "'a' 'cat' 'fat'", 'text'],
  ['bit(4)', "B'1010'", '1010', 'text'],
  ['xml', "'<a>1</a>'", '<a>1</a>', 'text'],
];

describe('every PostgreSQL type × CSV, JSON, XLSX × stream and job', () => {
  let app: TestApp;
  let services: AppServices;
  let user: { id: string; email: string; name: string };
  const columns = TYPES.map((_, index) => `c${index + 1}`);

  beforeAll(async () => {
    app = await createTestApp('sqlite', { dataSource: 'postgresql', events: 100 });
    const admin = new pg.Client({ connectionString: app.dataAdminUrl! });
    await admin.connect();
    await admin.query(
      `CREATE TABLE every_type (${TYPES.map(([type], index) => `${columns[index]} ${type}`).join(', ')}, position int)`,
    );
    await admin.query(
      `INSERT INTO every_type VALUES (${TYPES.map(([type, literal]) => `${literal}::${type}`).join(', ')}, 1), (${TYPES.map(() => 'NULL').join(', ')}, 2)`,
    );
    await admin.end();
    const dataSource = openDataSource(await readOnlyRoleUrl(app.dataAdminUrl!), 10_000);
    services = { ...app.services, dataSource } as AppServices;
    services.jobs = createInProcessExportJobs(services, TEST_JOB_OPTIONS);
    user = (await newUser(app.db)).user;
  }, 60_000);
  afterAll(async () => {
    await services.jobs.close();
    await services.dataSource.close();
    await app.close();
  });

  const sql = `SELECT ${columns.join(', ')} FROM every_type ORDER BY position`;

  for (const delivery of ['stream', 'file'] as const) {
    it(`CSV by ${delivery}: every type as PostgreSQL writes it, NULL as nothing`, async () => {
      const records = parse(await exportOf(services, user, sql, 'csv', delivery), {
        record_delimiter: '\r\n',
      }) as string[][];
      expect(records[0]).toEqual(columns);
      expect(records[1]).toEqual(TYPES.map(([, , text]) => text));
      expect(records[2]).toEqual(columns.map(() => ''));
    });

    it(`JSON by ${delivery}: numbers as numbers, json as its text, NULL as null`, async () => {
      const rows = JSON.parse((await exportOf(services, user, sql, 'json', delivery)).toString()) as Array<
        Record<string, unknown>
      >;
      expect(rows).toHaveLength(2);
      TYPES.forEach(([type, , text], index) => {
        const value = rows[0]![columns[index]!];
        if (type === 'boolean') expect(value).toBe(true);
        else if (/^(smallint|integer|bigint|real)$/.test(type) || (type.startsWith('numeric') && /\d$/.test(text)))
          expect(value).toBe(Number(text));
        else expect(value).toBe(text);
        expect(rows[1]![columns[index]!]).toBeNull();
      });
    });

    it(`XLSX by ${delivery}: exact numbers a spreadsheet can hold, exact text for the rest, dates as dates`, async () => {
      const bytes = await exportOf(services, user, sql, 'xlsx', delivery);
      const rows = await xlsxRows(bytes);
      // Columns are as wide as their values (a timestamp shows whole, never ###), not only their header.
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
      const timestampColumn = TYPES.findIndex(([type]) => type === 'timestamp') + 1;
      expect(workbook.worksheets[0]!.getColumn(timestampColumn).width).toBeGreaterThanOrEqual(25);
      // The zone-aware timestamp's header says its times are UTC; the one without a zone does not.
      expect(rows[0]).toEqual(
        columns.map((column, index) => (TYPES[index]![0] === 'timestamptz' ? `${column} (UTC)` : column)),
      );
      TYPES.forEach(([, , text, held], index) => {
        const cell = rows[1]![index];
        if (held === 'number') expect(cell).toBe(Number(text));
        else if (held === 'boolean') expect(cell).toBe(true);
        else if (held === 'date') expect(cell).toBeInstanceOf(Date);
        else expect(cell).toBe(text === '' ? undefined : text);
      });
    });
  }
});

/** What every reader must read back: a table of the awkward values the issue lists. */
function awkwardStatements(dialect: 'sqlite' | 'postgresql'): string[] {
  const big = dialect === 'postgresql' ? 'bigint' : 'INTEGER';
  return [
    `CREATE TABLE awkward (id integer PRIMARY KEY, label text, amount numeric(40,10), big ${big}, note text, "=cmd|' /C calc'!A0" text)`,
    "INSERT INTO awkward VALUES (1, '', 1234.5, 9007199254740993, '-2327.54', 'x')",
    `INSERT INTO awkward VALUES (2, NULL, 123456789012345678901.5, 1234567890123456, 'line one${dialect === 'postgresql' ? "' || chr(13) || chr(10) || '" : "' || char(13) || char(10) || '"}line two', '=1+1')`,
    "INSERT INTO awkward VALUES (3, 'plain', -0.5, 42, '+1 555 0100', '@mention')",
  ];
}

function readWith(reader: string, bytes: Buffer, extension: string): { header: unknown[]; rows: unknown[][] } {
  const temp = tempDir();
  try {
    const file = path.join(temp.dir, `export.${extension}`);
    writeFileSync(file, bytes);
    return JSON.parse(execFileSync(PYTHON, [READER, reader, file], { encoding: 'utf8' }));
  } finally {
    temp.remove();
  }
}

describe.each(['sqlite', 'postgresql'] as const)('awkward values read back by real readers, %s', (dialect) => {
  let app: TestApp;
  let services: AppServices;
  let user: { id: string; email: string; name: string };
  let removeSource: () => void = () => undefined;
  const awkward = 'SELECT id, label, amount, big, note, "=cmd|\' /C calc\'!A0" FROM awkward ORDER BY id';

  beforeAll(async () => {
    app = await createTestApp('sqlite', { events: 100 });
    let url: string;
    if (dialect === 'sqlite') {
      const temp = tempDir();
      const file = path.join(temp.dir, 'awkward.db');
      const db = new Database(file);
      for (const statement of awkwardStatements(dialect)) db.exec(statement);
      db.close();
      url = `file:${file}`;
      removeSource = temp.remove;
    } else {
      const admin = new pg.Client({ connectionString: (await import('../helpers/databases')).POSTGRES_ADMIN_URL });
      await admin.connect();
      const name = `askport_awkward_${process.pid}_${Date.now()}`;
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const dbUrl = new URL((await import('../helpers/databases')).POSTGRES_ADMIN_URL);
      dbUrl.pathname = `/${name}`;
      const client = new pg.Client({ connectionString: dbUrl.toString() });
      await client.connect();
      for (const statement of awkwardStatements(dialect)) await client.query(statement);
      await client.end();
      url = await readOnlyRoleUrl(dbUrl.toString());
      removeSource = () => {
        const drop = new pg.Client({ connectionString: dbUrl.toString().replace(`/${name}`, '/postgres') });
        void drop
          .connect()
          .then(() => drop.query(`DROP DATABASE ${name} WITH (FORCE)`))
          .finally(() => drop.end());
      };
    }
    services = { ...app.services, dataSource: openDataSource(url, 10_000) } as AppServices;
    user = (await newUser(app.db)).user;
  }, 60_000);
  afterAll(async () => {
    await services.dataSource.close();
    removeSource();
    await app.close();
  });

  it("CSV: Python's csv module and pandas read every row; NULL and empty differ; only formulas are neutralised", async () => {
    const bytes = await exportOf(services, user, awkward, 'csv', 'stream');
    const text = bytes.toString();
    expect(text.split('\r\n')[1]).toBe(
      '1,"",1234.5000000000,9007199254740993,-2327.54,x'.replace(
        '1234.5000000000',
        dialect === 'postgresql' ? '1234.5000000000' : '1234.5',
      ),
    );
    const module = readWith('csv-module', bytes, 'csv');
    expect(module.header).toEqual(['id', 'label', 'amount', 'big', 'note', "'=cmd|' /C calc'!A0"]);
    expect(module.rows.map((row) => row[4])).toEqual(['-2327.54', 'line one\r\nline two', "'+1 555 0100"]);
    expect(module.rows.map((row) => row[5])).toEqual(['x', "'=1+1", "'@mention"]);
    expect(module.rows.map((row) => row[3])).toEqual(['9007199254740993', '1234567890123456', '42']);
    const pandas = readWith('pandas-csv', bytes, 'csv');
    expect(pandas.rows).toHaveLength(3);
    expect(pandas.rows.map((row) => row[3])).toEqual(['9007199254740993', '1234567890123456', '42']);
  });

  it('CSV of one column with NULLs and empty strings: no blank records, every row read by pandas', async () => {
    const bytes = await exportOf(services, user, 'SELECT label FROM awkward ORDER BY id', 'csv', 'stream');
    expect(bytes.toString().split('\r\n').slice(1, 4)).toEqual(['""', '""', 'plain']);
    expect(readWith('pandas-csv', bytes, 'csv').rows).toHaveLength(3);
    expect(readWith('csv-module', bytes, 'csv').rows).toEqual([[''], [''], ['plain']]);
  });

  it("JSON: Python's json module reads NULL and empty apart, big integers exactly, duplicate names kept apart", async () => {
    const read = readWith('json-module', await exportOf(services, user, awkward, 'json', 'stream'), 'json');
    expect(read.rows.map((row) => row[1])).toEqual(['', null, 'plain']);
    expect(read.rows.map((row) => row[3])).toEqual(['9007199254740993', '1234567890123456', '42']);
    const duplicates = readWith(
      'json-module',
      await exportOf(services, user, 'SELECT 1 AS a, 2 AS a, 3 AS a_2', 'json', 'stream'),
      'json',
    );
    expect(duplicates.header).toEqual(['a', 'a_3', 'a_2']);
    expect(duplicates.rows).toEqual([['1', '2', '3']]);
  });

  it('JSON for JavaScript: integers beyond 2^53 as text when asked, and the metadata names their columns', async () => {
    await updatePreferences(app.db, user.id, { jsonBigIntegersAsText: true, includeMetadata: true });
    try {
      const document = JSON.parse((await exportOf(services, user, awkward, 'json', 'stream')).toString()) as {
        rows: Array<Record<string, unknown>>;
        metadata: { bigIntegerColumns: string[]; bigIntegersAsText: boolean };
      };
      expect(document.rows.map((row) => row.big)).toEqual(['9007199254740993', 1234567890123456, 42]);
      expect(document.metadata).toMatchObject({ bigIntegerColumns: ['big'], bigIntegersAsText: true });
    } finally {
      await updatePreferences(app.db, user.id, { jsonBigIntegersAsText: false, includeMetadata: false });
    }
  });

  it("XLSX: a value longer than Excel's 32,767 characters is cut with a marker and counted; CSV keeps it whole", async () => {
    const long = dialect === 'postgresql' ? "repeat('x', 40000)" : "replace(hex(zeroblob(20000)), '0', 'x')";
    const sql = `SELECT ${long} AS long`;
    const read = readWith('openpyxl', await exportOf(services, user, sql, 'xlsx', 'stream'), 'xlsx');
    const cell = read.rows[0]![0] as string;
    expect(cell).toHaveLength(32_767);
    expect(cell.endsWith('…[cut: Excel holds 32,767 characters a cell]')).toBe(true);
    const csv = (await exportOf(services, user, sql, 'csv', 'stream')).toString().split('\r\n')[1]!;
    expect(csv).toHaveLength(40_000);
    const chunks: Uint8Array[] = [];
    for await (const chunk of zipQueryResults(
      services.dataSource,
      [
        { title: 'long', sql, format: 'xlsx' },
        { title: 'long csv', sql, format: 'csv' },
      ],
      DEFAULT_ENCODER_OPTIONS,
      new AbortController().signal,
      () => undefined,
    ))
      chunks.push(chunk);
    const zip = await JSZip.loadAsync(Buffer.concat(chunks));
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as {
      files: Array<{ format: string; cutCells: number }>;
    };
    expect(manifest.files.map((file) => [file.format, file.cutCells])).toEqual([
      ['xlsx', 1],
      ['csv', 0],
    ]);
  });

  it('XLSX: openpyxl and pandas read exact big numbers as text, line breaks as line breaks, a filter over the data', async () => {
    const bytes = await exportOf(services, user, awkward, 'xlsx', 'stream');
    for (const reader of ['openpyxl', 'pandas-xlsx']) {
      const read = readWith(reader, bytes, 'xlsx');
      expect(read.rows).toHaveLength(3);
      expect(read.rows.map((row) => row[3])).toEqual(['9007199254740993', '1234567890123456', '42']);
      // SQLite holds this as a double (its NUMERIC affinity); PostgreSQL's numeric keeps every digit.
      expect(read.rows[1]![2]).toBe(
        dialect === 'postgresql' ? '123456789012345678901.5000000000' : '123456789012345680000',
      );
      expect(read.rows.map((row) => row[4])).toEqual(['-2327.54', 'line one\r\nline two', '+1 555 0100']);
    }
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
    expect(workbook.worksheets[0]!.autoFilter).toBe('A1:F4');
  });
});
