import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import type { CellValue, QueryColumn, RowStream } from '@/server/query/data-source';
import { encodeXlsx } from '@/server/export/xlsx';

function rowStream(columns: QueryColumn[], rows: CellValue[][], batchSize: number): RowStream & { closed: boolean } {
  const stream = {
    columns,
    closed: false,
    close: async () => {
      stream.closed = true;
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (let index = 0; index < rows.length; index += batchSize) yield rows.slice(index, index + batchSize);
      } finally {
        stream.closed = true;
      }
    },
  };
  return stream;
}

async function workbookOf(chunks: AsyncGenerator<Uint8Array>): Promise<ExcelJS.Workbook> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(Buffer.concat(parts) as unknown as ArrayBuffer);
  return workbook;
}

const columns: QueryColumn[] = [
  { name: 'id', kind: 'integer' },
  { name: 'amount', kind: 'decimal' },
  { name: 'at', kind: 'text' },
  { name: 'note', kind: 'text' },
  { name: 'big', kind: 'integer' },
];

describe('XLSX writer', () => {
  it('writes typed cells: numbers, exact-decimal text as numbers, ISO timestamps as dates, text as text', async () => {
    const rows: CellValue[][] = [
      [1, '1234.50', '2026-01-02T03:04:05Z', '=SUM(A1)', 9007199254740993n],
      [2, null, 'not a date', 'Größe, "q"\nline', 5n],
    ];
    const workbook = await workbookOf(encodeXlsx(rowStream(columns, rows, 1), () => undefined));
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('Export');
    expect(sheet.getRow(2).values).toEqual([
      undefined,
      1,
      1234.5,
      new Date('2026-01-02T03:04:05Z'),
      '=SUM(A1)',
      '9007199254740993',
    ]);
    expect(sheet.getRow(3).getCell(2).value).toBe(null);
    expect(sheet.getRow(3).getCell(4).value).toBe('Größe, "q"\nline');
    expect(sheet.getRow(3).getCell(5).value).toBe(5);
  });

  it('continues on a new sheet, with its own header, when a sheet is full', async () => {
    const rows: CellValue[][] = Array.from({ length: 25 }, (_, index) => [index + 1, '1.00', null, 'x', 1n]);
    let counted = 0;
    const workbook = await workbookOf(encodeXlsx(rowStream(columns, rows, 7), (count) => (counted += count), 10));
    expect(workbook.worksheets.map((sheet) => [sheet.name, sheet.rowCount])).toEqual([
      ['Export', 11],
      ['Export (2)', 11],
      ['Export (3)', 6],
    ]);
    expect(workbook.worksheets[1]!.getRow(1).values).toEqual([undefined, 'id', 'amount', 'at', 'note', 'big']);
    expect(workbook.worksheets[2]!.getRow(6).getCell(1).value).toBe(25);
    expect(counted).toBe(25);
  });

  it('keeps hostile text exactly and marks the header bold, frozen and filtered', async () => {
    const wide: QueryColumn[] = Array.from({ length: 30 }, (_, index) => ({
      name: index === 0 ? 'a & <b> "c"' : `c${index}`,
      kind: index === 1 ? 'boolean' : 'text',
    }));
    const texts = [
      '  leading',
      'trailing  ',
      'tab\there',
      'bell\u0007 and vt\u000b',
      'literal _x000D_ escape',
      '<tag attr="1"> & </tag>',
      '=1+1',
      'Größe 東京 🚀',
      'line\r\nbreak',
      '',
    ];
    const rows: CellValue[][] = texts.map((text, index) =>
      Array.from({ length: 30 }, (_, column) =>
        column === 1 ? index % 2 === 0 : column === 29 ? '1850-01-01T00:00:00Z' : text,
      ),
    );
    const workbook = await workbookOf(encodeXlsx(rowStream(wide, rows, 3), () => undefined));
    const sheet = workbook.worksheets[0]!;
    expect(sheet.getRow(1).getCell(1).value).toBe('a & <b> "c"');
    // Timestamps with a zone are shown in UTC, and their header says so.
    expect(sheet.getRow(1).getCell(30).value).toBe('c29 (UTC)');
    expect(sheet.getRow(1).getCell(1).font?.bold).toBe(true);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBe('A1:AD11');
    // Excel decodes _xHHHH_ escapes (ECMA-376 ST_Xstring); exceljs's reader does not, so decode as Excel does.
    const asExcelReads = (value: unknown) =>
      String(value ?? '').replace(/_x([0-9A-F]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    texts.forEach((text, index) => {
      // An empty string is an empty inline string; readers see it as empty.
      expect(asExcelReads(sheet.getRow(index + 2).getCell(3).value)).toBe(text);
      expect(sheet.getRow(index + 2).getCell(2).value).toBe(index % 2 === 0);
      // Before 1900-03-01 Excel has no such date: the ISO text stays.
      expect(sheet.getRow(index + 2).getCell(30).value).toBe('1850-01-01T00:00:00Z');
    });
  });

  it('gives the same bytes for the same rows, whatever the batch size', async () => {
    const rows: CellValue[][] = Array.from({ length: 500 }, (_, index) => [
      index,
      `${index}.50`,
      '2026-01-02T03:04:05Z',
      `note ${index}`,
      BigInt(index),
    ]);
    // Small pieces (1,000 characters, a few rows each), so pieces and batches end in many places.
    const bytes = async (batchSize: number) => {
      const parts: Uint8Array[] = [];
      for await (const chunk of encodeXlsx(rowStream(columns, rows, batchSize), () => undefined, undefined, 1_000))
        parts.push(chunk);
      return Buffer.concat(parts);
    };
    const single = await bytes(1);
    expect(single.length).toBeGreaterThan(0);
    expect((await bytes(7)).equals(single)).toBe(true);
    expect((await bytes(500)).equals(single)).toBe(true);
    const read = async (batchSize: number) => {
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load((await bytes(batchSize)) as unknown as ArrayBuffer);
      const values: unknown[] = [];
      workbook.worksheets[0]!.eachRow((row) => values.push(row.values));
      return values;
    };
    expect(await read(7)).toEqual(await read(500));
  });

  it('stops reading rows when the reader goes away', async () => {
    const rows: CellValue[][] = Array.from({ length: 20_000 }, (_, index) => [
      index,
      '1.00',
      null,
      'some text to fill the buffer '.repeat(4),
      1n,
    ]);
    const source = rowStream(columns, rows, 100);
    const chunks = encodeXlsx(source, () => undefined);
    await chunks.next();
    await chunks.return(undefined);
    expect(source.closed).toBe(true);
  });
});
