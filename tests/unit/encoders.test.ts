import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  createCsvEncoder,
  createJsonEncoder,
  DEFAULT_ENCODER_OPTIONS,
  type ExportEncoder,
} from '@/server/export/encoders';
import type { CellValue, QueryColumn } from '@/server/query/data-source';

const columns: QueryColumn[] = [
  { name: 'id', kind: 'integer' },
  { name: 'amount', kind: 'decimal' },
  { name: 'note', kind: 'text' },
  { name: 'at', kind: 'timestamp' },
];

const rows: CellValue[][] = [
  [1, '1234.50', 'plain', '2026-01-02T03:04:05Z'],
  [2, -0.1, 'comma, inside', new Date(Date.UTC(2026, 0, 2, 3, 4, 5))],
  [3, null, 'quote " inside', null],
  [4, '99999999999999999999.99', 'line\nfeed', null],
  [9007199254740993n, 0, 'carriage\r\nreturn', null],
  [6, '-5.00', '=HYPERLINK("http://evil")', null],
  [7, 1, '+cmd', null],
  [8, 1, '-2+3', null],
  [9, 1, '@SUM(A1)', null],
  [10, 1, '\tTAB', null],
  [11, 1, 'Größe — café ☕, 東京 🚀', null],
  [12, 1, '', null],
];

function render(encoder: ExportEncoder, batchSize: number): string {
  let text = encoder.start();
  for (let index = 0; index < rows.length; index += batchSize)
    text += encoder.batch(rows.slice(index, index + batchSize));
  return text + encoder.end();
}

describe('CSV encoder', () => {
  const csv = render(createCsvEncoder(columns, DEFAULT_ENCODER_OPTIONS), 1_000);

  it('writes RFC 4180: header, CRLF between records, quoting of comma, quote, CR and LF', () => {
    expect(csv.startsWith('id,amount,note,at\r\n')).toBe(true);
    expect(csv).toContain('"comma, inside"');
    expect(csv).toContain('"quote "" inside"');
    expect(csv).toContain('"line\nfeed"');
    expect(csv).toContain('"carriage\r\nreturn"');
    expect(csv.endsWith('\r\n')).toBe(true);
    const records = parse(csv, { columns: true, record_delimiter: '\r\n' }) as Array<Record<string, string>>;
    expect(records).toHaveLength(rows.length);
    expect(records[3]?.note).toBe('line\nfeed');
    expect(records[10]?.note).toBe('Größe — café ☕, 東京 🚀');
  });

  it('writes NULL as an empty field, decimals and 64-bit integers digit for digit, timestamps in ISO 8601 UTC', () => {
    const lines = csv.split('\r\n');
    expect(lines[1]).toBe('1,1234.50,plain,2026-01-02T03:04:05Z');
    expect(lines[2]).toBe('2,-0.1,"comma, inside",2026-01-02T03:04:05.000Z');
    expect(lines[3]).toBe('3,,"quote "" inside",');
    expect(lines[4]).toBe('4,99999999999999999999.99,"line\nfeed",');
    expect(csv).toContain('9007199254740993,0,"carriage');
  });

  it('neutralises text that a spreadsheet would run as a formula, but not negative numbers', () => {
    const records = parse(csv, { columns: true, record_delimiter: '\r\n' }) as Array<Record<string, string>>;
    expect(records[5]).toMatchObject({ amount: '-5.00', note: `'=HYPERLINK("http://evil")` });
    expect(records[6]?.note).toBe("'+cmd");
    expect(records[7]?.note).toBe("'-2+3");
    expect(records[8]?.note).toBe("'@SUM(A1)");
    expect(records[9]?.note).toBe("'\tTAB");
  });

  it('can leave formulas alone and add a byte-order mark for Excel when asked', () => {
    const text = render(
      createCsvEncoder(columns, {
        csvByteOrderMark: true,
        neutraliseFormulas: false,
        includeMetadata: false,
        jsonBigIntegersAsText: false,
      }),
      1_000,
    );
    expect(text.startsWith('\ufeffid,')).toBe(true);
    expect(text).toContain('"=HYPERLINK(""http://evil"")"');
  });

  it('gives the same bytes whatever the batch size', () => {
    for (const batchSize of [1, 5, 7])
      expect(render(createCsvEncoder(columns, DEFAULT_ENCODER_OPTIONS), batchSize)).toBe(csv);
  });

  it('writes just the header for an empty result', () => {
    const encoder = createCsvEncoder(columns, DEFAULT_ENCODER_OPTIONS);
    expect(encoder.start() + encoder.end()).toBe('id,amount,note,at\r\n');
  });
});

describe('JSON encoder', () => {
  const json = render(createJsonEncoder(columns), 1_000);

  it('writes one valid array of row objects', () => {
    const parsed = JSON.parse(json) as Array<Record<string, unknown>>;
    expect(parsed).toHaveLength(rows.length);
    expect(parsed[0]).toEqual({ id: 1, amount: 1234.5, note: 'plain', at: '2026-01-02T03:04:05Z' });
    expect(parsed[2]).toEqual({ id: 3, amount: null, note: 'quote " inside', at: null });
    expect(parsed[3]?.note).toBe('line\nfeed');
    expect(parsed[10]?.note).toBe('Größe — café ☕, 東京 🚀');
  });

  it('keeps exact decimals and 64-bit integers as number literals, digit for digit', () => {
    expect(json).toContain('"amount":1234.50');
    expect(json).toContain('"amount":99999999999999999999.99');
    expect(json).toContain('"id":9007199254740993');
    expect(json).toContain('"at":"2026-01-02T03:04:05.000Z"');
  });

  it('does not neutralise formulas: JSON is for code', () => {
    expect((JSON.parse(json) as Array<{ note: string }>)[5]?.note).toBe('=HYPERLINK("http://evil")');
  });

  it('gives the same bytes whatever the batch size, and [] for no rows', () => {
    for (const batchSize of [1, 5, 7]) expect(render(createJsonEncoder(columns), batchSize)).toBe(json);
    const empty = createJsonEncoder(columns);
    expect(JSON.parse(empty.start() + empty.end())).toEqual([]);
  });

  it('wraps the rows with metadata when asked: query, title, time, row count, format version', () => {
    const encoder = createJsonEncoder(columns, {
      query: 'select * from t',
      title: 'T',
      generatedAt: new Date(Date.UTC(2026, 0, 1)),
    });
    const text = encoder.start() + encoder.batch(rows.slice(0, 3)) + encoder.batch(rows.slice(3, 5)) + encoder.end();
    const parsed = JSON.parse(text) as { rows: unknown[]; metadata: Record<string, unknown> };
    expect(parsed.rows).toHaveLength(5);
    expect(parsed.metadata).toEqual({
      query: 'select * from t',
      title: 'T',
      generatedAt: '2026-01-01T00:00:00.000Z',
      rowCount: 5,
      columns: columns.map((column) => ({ name: column.name, kind: column.kind })),
      bigIntegerColumns: ['id'],
      bigIntegersAsText: false,
      formatVersion: 1,
    });
    const empty = createJsonEncoder(columns, { query: 'q', title: 't', generatedAt: new Date(0) });
    expect((JSON.parse(empty.start() + empty.end()) as { rows: unknown[] }).rows).toEqual([]);
  });

  it('keeps every column when two share a name', () => {
    const encoder = createJsonEncoder([
      { name: 'id', kind: 'integer' },
      { name: 'id', kind: 'integer' },
    ]);
    expect(JSON.parse(encoder.start() + encoder.batch([[1, 2]]) + encoder.end())).toEqual([{ id: 1, id_2: 2 }]);
  });
});
