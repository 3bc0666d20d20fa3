import { PREVIEW_CELL_CHARS } from '@/lib/limits';
import { cutCellText, rowTooLargeMessage, valueTooLargeMessage, type CellValue } from './data-source';

// Statements the PostgreSQL data source builds around a user's statement once the guard has parsed
// it. A statement PostgreSQL parsed on its own is complete (every string, comment and parenthesis
// closed), so tokens placed around it stay outside it; the newline before each closing parenthesis
// ends a trailing `-- comment`. Columns are renamed by position inside, so duplicate or odd names do
// not matter, and given their own names back outside.

/** Types whose values have a small fixed or bounded size: never cut, never size-checked. */
const BOUNDED_TYPES: ReadonlySet<number> = new Set([16, 20, 21, 23, 26, 650, 700, 701, 790, 829, 869, 1042, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950]);
const BYTEA = 17;
/** text, varchar, name: octet_length reads the stored length, no conversion. */
const TEXT_TYPES: ReadonlySet<number> = new Set([19, 25, 1043]);

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const positional = (count: number) => Array.from({ length: count }, (_, index) => `c${index + 1}`);

/** True when some column's values can be of any size (text, bytea, json, arrays…). */
export function hasUnboundedColumns(typeOids: number[]): boolean {
  return typeOids.some((oid) => !BOUNDED_TYPES.has(oid));
}

export function describeQuery(sql: string): string {
  return `SELECT * FROM (${sql}\n) AS askport_describe LIMIT 0`;
}

export function countQuery(sql: string): string {
  return `SELECT count(*) AS count FROM (${sql}\n) AS askport_count`;
}

/** How each column is read for a preview: as it is, or its start plus its full length. */
type PreviewRead = 'whole' | 'text' | 'bytes';

/** Bytes of a value's start kept for a preview: their base64 is PREVIEW_CELL_CHARS long. */
const PREVIEW_BYTES_KEPT = Math.floor((PREVIEW_CELL_CHARS * 3) / 4);

/**
 * The preview statement: values of unbounded types leave the database already cut to their start,
 * with their length beside them, so a huge value never reaches the server whole.
 */
export function previewQuery(sql: string, typeOids: number[]): { text: string; reads: PreviewRead[] } {
  const names = positional(typeOids.length);
  const reads: PreviewRead[] = typeOids.map((oid) => (BOUNDED_TYPES.has(oid) ? 'whole' : oid === BYTEA ? 'bytes' : 'text'));
  const select = names.map((name, index) => {
    if (reads[index] === 'whole') return name;
    if (reads[index] === 'bytes') return `substring(${name} from 1 for ${PREVIEW_BYTES_KEPT}), octet_length(${name})`;
    const text = TEXT_TYPES.has(typeOids[index]!) ? name : `${name}::text`;
    return `left(${text}, ${PREVIEW_CELL_CHARS}), char_length(${text})`;
  });
  return { text: `SELECT ${select.join(', ') || '*'} FROM (${sql}\n) AS askport_preview(${names.join(', ')})`, reads };
}

/** A preview row back in the statement's own columns; counts the values that were cut. */
export function previewRow(raw: CellValue[], reads: PreviewRead[], onCut: () => void): CellValue[] {
  const row: CellValue[] = [];
  let at = 0;
  for (const read of reads) {
    const value = raw[at++] ?? null;
    if (read === 'whole') {
      row.push(value);
      continue;
    }
    const length = Number(raw[at++] ?? 0);
    const kept = read === 'bytes' ? PREVIEW_BYTES_KEPT : PREVIEW_CELL_CHARS;
    if (value === null || length <= kept) {
      row.push(value);
      continue;
    }
    onCut();
    const start = read === 'bytes' ? Buffer.from(value as Uint8Array).toString('base64') : String(value);
    row.push(cutCellText(start, length, read === 'bytes' ? 'bytes' : 'characters'));
  }
  return row;
}

/** The marker a size check raises: `askport_too_large:N` names column N, `:0` the whole row. */
const TOO_LARGE = 'askport_too_large:';

/**
 * The statement with a size check on every unbounded value: a value over `maxCellBytes`, or a row
 * whose values together are, stops the query with an error (a cast of a marker that is not a number;
 * SQL has no other way to raise one) before it is sent, so it never reaches the server's memory.
 * The marker is joined to an empty piece of the value so it is not a constant the planner would
 * evaluate up front. Returns the statement unchanged when every column is of a bounded type.
 */
export function sizeCheckedQuery(sql: string, columnNames: string[], typeOids: number[], maxCellBytes: number): string {
  const names = positional(typeOids.length);
  if (!hasUnboundedColumns(typeOids)) return sql;
  const checked = typeOids.flatMap((oid, index) => (BOUNDED_TYPES.has(oid) ? [] : [index]));
  const size = (index: number) => {
    const oid = typeOids[index]!;
    return oid === BYTEA || TEXT_TYPES.has(oid) ? `octet_length(${names[index]})` : `octet_length(${names[index]}::text)`;
  };
  const raise = (marker: number, index: number) => `('${TOO_LARGE}${marker}' || coalesce(left(${names[index]}::text, 0), ''))::int = 0`;
  const cells = checked.map((index) => `WHEN ${size(index)} > ${maxCellBytes} THEN ${raise(index + 1, index)}`);
  const row = checked.length > 1 ? [`WHEN ${checked.map((index) => `coalesce(${size(index)}, 0)`).join(' + ')} > ${maxCellBytes} THEN ${raise(0, checked[0]!)}`] : [];
  const select = names.map((name, index) => `${name} AS ${quoteIdentifier(columnNames[index]!)}`);
  return `SELECT ${select.join(', ')} FROM (${sql}\n) AS askport_sized(${names.join(', ')}) WHERE CASE ${[...cells, ...row].join(' ')} ELSE true END`;
}

/** The sentence for a size check's error, or null when the error is something else. */
export function sizeCheckMessage(error: unknown, columnNames: string[], maxCellBytes: number): string | null {
  const message = error instanceof Error ? error.message : '';
  const marker = new RegExp(`"${TOO_LARGE}(\\d+)"`).exec(message);
  if (!marker) return null;
  const column = Number(marker[1]);
  return column === 0 ? rowTooLargeMessage(maxCellBytes) : valueTooLargeMessage(columnNames[column - 1] ?? `#${column}`, maxCellBytes);
}
