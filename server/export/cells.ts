import type { CellValue, ColumnKind, QueryColumn } from '../query/data-source';

// One place that turns data source values into text, so CSV, JSON and the chat preview agree.

const EXACT_NUMBER = /^-?\d+(\.\d+)?$/;
/** Text a spreadsheet would run as a formula (OWASP CSV injection): =, +, -, @, tab, CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

export function isNumericKind(kind: ColumnKind): boolean {
  return kind === 'integer' || kind === 'decimal' || kind === 'float';
}

function binaryToBase64(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

/** Plain text of a value, or null for SQL NULL. Numbers keep every digit the database gave. */
export function cellText(value: CellValue): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  return binaryToBase64(value);
}

/** A CSV field: NULL → empty; formula-like text gets a leading apostrophe unless it is a number. */
export function csvCell(value: CellValue, kind: ColumnKind, neutraliseFormulas: boolean): string {
  const text = cellText(value);
  if (text === null) return '';
  if (neutraliseFormulas && typeof value === 'string' && FORMULA_START.test(text) && !(isNumericKind(kind) && EXACT_NUMBER.test(text))) {
    return `'${text}`;
  }
  return text;
}

/** A JSON value's source text. Integers and decimals are written as number literals digit for digit. */
export function jsonValue(value: CellValue, kind: ColumnKind): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string' && isNumericKind(kind) && EXACT_NUMBER.test(value)) return value;
  return JSON.stringify(cellText(value));
}

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
    numeric: isNumericKind(column.kind) || (column.kind === 'unknown' && rows.length > 0 && rows.every((row) => row[index] === null || typeof row[index] === 'number' || typeof row[index] === 'bigint')),
  }));
}
