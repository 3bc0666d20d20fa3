import { PassThrough } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { CellValue, QueryColumn, RowStream } from '../query/data-source';
import { cellText, isNumericKind } from './cells';

/** Excel's last row is 1,048,576: one header plus this many data rows per sheet. */
export const MAX_DATA_ROWS_PER_SHEET = 1_048_575;
// How much finished workbook may wait for the reader before adding rows pauses.
const OUTPUT_HIGH_WATER_MARK = 1024 * 1024;
const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** A typed cell: numbers as numbers, timestamps as dates, everything else as text. */
function xlsxCell(value: CellValue, column: QueryColumn): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  if (value instanceof Date) return value;
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (typeof value === 'string') {
    if (isNumericKind(column.kind) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    if ((column.kind === 'timestamp' || column.kind === 'text' || column.kind === 'unknown') && ISO_TIMESTAMP.test(value)) return new Date(value);
    return value;
  }
  return cellText(value);
}

/**
 * Streams a workbook: bold frozen header with an auto-filter on every sheet, typed cells, and a new
 * sheet after each 1,048,575 data rows. Rows are added a batch at a time and committed at once, so
 * exceljs keeps no rows in memory; adding pauses while the reader is behind.
 */
export async function* encodeXlsx(rows: RowStream, onRows: (count: number) => void, maxRowsPerSheet = MAX_DATA_ROWS_PER_SHEET): AsyncGenerator<Uint8Array> {
  const output = new PassThrough({ highWaterMark: OUTPUT_HIGH_WATER_MARK });
  // Loaded on first use: exceljs costs the server about 30 MB of memory, and most exports are not XLSX.
  const { default: excel } = await import('exceljs');
  const workbook = new excel.stream.xlsx.WorkbookWriter({ stream: output, useStyles: true, useSharedStrings: false });
  workbook.creator = 'Askport';
  const columns = rows.columns;
  let sheet: ExcelJS.Worksheet | null = null;
  let sheetRows = 0;
  let sheets = 0;

  const newSheet = () => {
    sheet?.commit();
    sheets += 1;
    sheet = workbook.addWorksheet(sheets === 1 ? 'Export' : `Export (${sheets})`, { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = columns.map((column) => ({ header: column.name, key: column.name, width: Math.min(60, Math.max(10, column.name.length + 2)) }));
    sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: Math.max(1, columns.length) } };
    const header = sheet.getRow(1);
    header.font = { bold: true };
    header.commit();
    sheetRows = 0;
    return sheet;
  };

  let failure: unknown = null;
  const producer = (async () => {
    try {
      let current = newSheet();
      for await (const batch of rows) {
        // The reader left: stop reading (leaving the loop closes the cursor).
        if (output.destroyed) return;
        for (const row of batch) {
          if (sheetRows === maxRowsPerSheet) current = newSheet();
          current.addRow(columns.map((column, index) => xlsxCell(row[index] ?? null, column))).commit();
          sheetRows += 1;
        }
        onRows(batch.length);
        while (output.readableLength > OUTPUT_HIGH_WATER_MARK && !output.destroyed) await new Promise((resolve) => output.once('data', resolve).once('close', resolve));
      }
      (current as ExcelJS.Worksheet).commit();
      await workbook.commit();
    } catch (error) {
      failure = error;
      output.destroy(error as Error);
    }
  })();

  try {
    for await (const chunk of output) yield chunk as Uint8Array;
  } finally {
    output.destroy();
    await producer;
  }
  if (failure) throw failure;
}
