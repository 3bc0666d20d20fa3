import type { CellValue, QueryColumn } from './values';
import { cellText, isNumericKind } from './encoders';

// One place that turns data source values into text, so CSV, JSON and the chat preview agree (the
// rules themselves live in encoding.ts).
export { cellText, isNumericKind } from './encoders';

/** A preview cell for the browser: JSON-safe, big integers as text. */
export function previewCell(value: CellValue): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  return cellText(value);
}

export function previewColumns(columns: QueryColumn[], rows: CellValue[][]): Array<{ name: string; numeric: boolean }> {
  return columns.map((column, index) => ({
    name: column.name,
    // Expressions have no declared type in SQLite: judge them by the values shown.
    numeric:
      isNumericKind(column.kind) ||
      (column.kind === 'unknown' &&
        rows.length > 0 &&
        rows.every((row) => row[index] === null || typeof row[index] === 'number' || typeof row[index] === 'bigint')),
  }));
}
