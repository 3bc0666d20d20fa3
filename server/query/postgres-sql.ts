import { PREVIEW_CELL_CHARS } from '@/lib/limits';
import { cutCellText, rowTooLargeMessage, valueTooLargeMessage, type CellValue } from './data-source';

// Statements the PostgreSQL data source builds around a user's statement once the guard has parsed
// it. A statement PostgreSQL parsed on its own is complete (every string, comment and parenthesis
// closed), so tokens placed around it stay outside it; the newline before each closing parenthesis
// ends a trailing `-- comment`. Columns are renamed by position inside, so duplicate or odd names do
// not matter, and given their own names back outside.

/** Types whose values have a small fixed or bounded size: never cut, never size-checked. */
const BOUNDED_TYPES: ReadonlySet<number> = new Set([
  16, 20, 21, 23, 26, 650, 700, 701, 790, 829, 869, 1042, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950,
]);
const BYTEA = 17;
/** text, varchar, name: octet_length reads the stored length, no conversion. */
const TEXT_TYPES: ReadonlySet<number> = new Set([19, 25, 1043]);

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const positional = (count: number) => Array.from({ length: count }, (_, index) => `c${index + 1}`);

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
  const reads: PreviewRead[] = typeOids.map((oid) =>
    BOUNDED_TYPES.has(oid) ? 'whole' : oid === BYTEA ? 'bytes' : 'text',
  );
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

/** The type names of the columns a size check can cast to without asking the database. */
const BUILTIN_TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [17, 'bytea'],
  [19, 'name'],
  [25, 'text'],
  [1043, 'varchar'],
]);

/** Where a size check goes: the first unbounded column, and its type's name when it is a common one (else ask format_type). */
export function sizeCheckColumn(typeOids: number[]): { index: number; typeName: string | null } | null {
  const index = typeOids.findIndex((oid) => !BOUNDED_TYPES.has(oid));
  return index === -1 ? null : { index, typeName: BUILTIN_TYPE_NAMES.get(typeOids[index]!) ?? null };
}

/**
 * The statement with a size check on its unbounded values: when a row's unbounded values together
 * are over `maxCellBytes`, the query stops with an error (a cast of a marker that is not a number;
 * SQL has no other way to raise one) before the row is sent, so it never reaches the server's
 * memory; the marker names the column when one value alone is over. The check is an expression in
 * the select list, on the first unbounded column, cast back to that column's type (`typeName`): in
 * a WHERE clause it changed the planner's row estimates (measured: an index scan became a parallel
 * sort, 25 ms to the first row became 400 ms). The marker is joined to an empty piece of the value so
 * it is not a constant the planner would evaluate up front. Unchanged when every column is bounded.
 */
export function sizeCheckedQuery(
  sql: string,
  columnNames: string[],
  typeOids: number[],
  maxCellBytes: number,
  typeName: string,
): string {
  const check = sizeCheckColumn(typeOids);
  if (!check) return sql;
  const names = positional(typeOids.length);
  const unbounded = typeOids.flatMap((oid, index) => (BOUNDED_TYPES.has(oid) ? [] : [index]));
  const size = (index: number) => {
    const oid = typeOids[index]!;
    return oid === BYTEA || TEXT_TYPES.has(oid)
      ? `octet_length(${names[index]})`
      : `octet_length(${names[index]}::text)`;
  };
  const total = unbounded.map((index) => `coalesce(${size(index)}, 0)`).join(' + ');
  const which =
    unbounded.length === 1
      ? `'${unbounded[0]! + 1}'`
      : `CASE ${unbounded.map((index) => `WHEN ${size(index)} > ${maxCellBytes} THEN '${index + 1}'`).join(' ')} ELSE '0' END`;
  const column = names[check.index]!;
  const raise = `('${TOO_LARGE}' || ${which} || coalesce(left(${column}::text, 0), ''))::int::text::${typeName}`;
  const select = names.map(
    (name, index) =>
      `${index === check.index ? `CASE WHEN ${total} > ${maxCellBytes} THEN ${raise} ELSE ${name} END` : name} AS ${quoteIdentifier(columnNames[index]!)}`,
  );
  return `SELECT ${select.join(', ')} FROM (${sql}\n) AS askport_sized(${names.join(', ')})`;
}

/** The sentence for a size check's error, or null when the error is something else. */
export function sizeCheckMessage(error: unknown, columnNames: string[], maxCellBytes: number): string | null {
  const message = error instanceof Error ? error.message : '';
  const marker = new RegExp(`"${TOO_LARGE}(\\d+)"`).exec(message);
  if (!marker) return null;
  const column = Number(marker[1]);
  return column === 0
    ? rowTooLargeMessage(maxCellBytes)
    : valueTooLargeMessage(columnNames[column - 1] ?? `#${column}`, maxCellBytes);
}
