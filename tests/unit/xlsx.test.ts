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
    const rows: CellValue[][] = [[1, '1234.50', '2026-01-02T03:04:05Z', '=SUM(A1)', 9007199254740993n], [2, null, 'not a date', 'Größe, "q"\nline', 5n]];
    const workbook = await workbookOf(encodeXlsx(rowStream(columns, rows, 1), () => undefined));
    const sheet = workbook.worksheets[0]!;
    expect(sheet.name).toBe('Export');
    expect(sheet.getRow(2).values).toEqual([undefined, 1, 1234.5, new Date('2026-01-02T03:04:05Z'), '=SUM(A1)', '9007199254740993']);
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

  it('stops reading rows when the reader goes away', async () => {
    const rows: CellValue[][] = Array.from({ length: 20_000 }, (_, index) => [index, '1.00', null, 'some text to fill the buffer '.repeat(4), 1n]);
    const source = rowStream(columns, rows, 100);
    const chunks = encodeXlsx(source, () => undefined);
    await chunks.next();
    await chunks.return(undefined);
    expect(source.closed).toBe(true);
  });
});
