import type { stringify as csvStringify } from 'csv-stringify/sync';
import type { CellValue, ColumnKind, QueryColumn } from './values';

/** Options that change a file's bytes. */
export interface EncoderOptions {
  csvByteOrderMark: boolean;
  neutraliseFormulas: boolean;
  /** JSON: `{"rows": [...], "metadata": {...}}` instead of a bare array. */
  includeMetadata: boolean;
  /** JSON: integers beyond ±2^53 as strings, for readers that parse numbers as doubles (JavaScript). */
  jsonBigIntegersAsText: boolean;
}

/** What the JSON metadata block says about the file, besides the row count it counts itself. */
export interface ExportMetadata {
  query: string;
  title: string;
  generatedAt: Date;
}

/**
 * Turns batches of rows into text. Every batch ends on a row boundary and nothing depends on where
 * batches split, so the bytes are the same whatever the batch size.
 */
export interface ExportEncoder {
  start(): string;
  batch(rows: CellValue[][]): string;
  /**
   * Rows another encoder of the same file wrote in between (the JSON separators depend on them), and
   * the columns where it met integers beyond ±2^53 (the JSON metadata names them).
   */
  skip(rowCount: number, bigIntegerColumns?: readonly number[]): void;
  /** Columns (by index) where this encoder met integers beyond ±2^53 so far. */
  bigIntegerColumns(): number[];
  end(): string;
}

export type EncodableFormat = 'csv' | 'json';

/**
 * Every cell and file rule, in one function of `stringify` (csv-stringify): the server and the SQLite
 * query processes (sqlite-query-process.ts) each build their writers from it, so batches encoded in
 * either place have the same bytes.
 */
export function encodingRuntime(stringify: typeof csvStringify) {
  const EXACT_NUMBER = /^-?\d+(\.\d+)?$/;
  /** Text a spreadsheet reads as a number (sign, digits, point, exponent): never a formula. */
  const PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  /**
   * Text a spreadsheet would run as a formula (OWASP CSV injection): it starts with = or @, or with
   * + or - and is not a plain number ("-2327.54" stays as it is), or with a tab or CR.
   */
  function runsAsFormula(text: string): boolean {
    // Character codes first: this runs for every text cell of every CSV.
    const first = text.charCodeAt(0);
    if (first === 61 || first === 64 || first === 9 || first === 13) return true;
    return (first === 43 || first === 45) && !PLAIN_NUMBER.test(text);
  }
  const JSON_FORMAT_VERSION = 1;

  function isNumericKind(kind: ColumnKind): boolean {
    return kind === 'integer' || kind === 'decimal' || kind === 'float';
  }

  /**
   * Plain text of a value, or null for SQL NULL. Numbers keep every digit the database gave; float
   * NaN and ±Infinity keep their names (they are values, not NULL).
   */
  function cellText(value: CellValue): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (value instanceof Date) return value.toISOString();
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  }

  /**
   * A CSV field, or null for SQL NULL (written as nothing; an empty string is written as "", as
   * psql's COPY does). Text a spreadsheet would run as a formula gets a leading apostrophe.
   */
  function csvCell(value: CellValue, neutraliseFormulas: boolean): string | null {
    const text = cellText(value);
    if (text === null) return null;
    if (neutraliseFormulas && typeof value === 'string' && runsAsFormula(text)) return `'${text}`;
    return text;
  }

  /** A JSON value's source text. Integers and decimals are written as number literals digit for digit. */
  function jsonValue(value: CellValue, kind: ColumnKind): string {
    if (value === null || value === undefined) return 'null';
    // NaN and ±Infinity have no JSON number: they are written as the strings "NaN", "Infinity", "-Infinity".
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'string' && isNumericKind(kind) && EXACT_NUMBER.test(value)) return value;
    return JSON.stringify(cellText(value));
  }

  function createCsvEncoder(columns: QueryColumn[], options: EncoderOptions): ExportEncoder {
    // RFC 4180: CRLF between records; fields with a comma, quote, CR or LF are quoted, and so is an
    // empty string, so that it differs from NULL.
    const csvOptions = { record_delimiter: 'windows', quoted_match: ['\n', '\r', /^$/] };
    // A one-column record holding NULL would be a blank line, which readers skip (pandas drops the
    // row): there NULL is written as "" like an empty string, the one place the two read the same.
    const oneColumn = columns.length === 1;
    const field = (value: CellValue) => csvCell(value, options.neutraliseFormulas) ?? (oneColumn ? '' : null);
    return {
      start: () =>
        (options.csvByteOrderMark ? '\ufeff' : '') +
        stringify([columns.map((column) => csvCell(column.name, options.neutraliseFormulas))], csvOptions),
      batch: (rows) =>
        stringify(
          rows.map((row) => columns.map((_, index) => field(row[index] ?? null))),
          csvOptions,
        ),
      skip: () => undefined,
      bigIntegerColumns: () => [],
      end: () => '',
    };
  }

  const MAX_EXACT_DOUBLE = 9_007_199_254_740_992n;
  /** An integer a double cannot hold exactly (beyond ±2^53): bigint, or exact integer text. */
  function isBigInteger(value: CellValue, kind: ColumnKind): boolean {
    if (typeof value === 'bigint') return value > MAX_EXACT_DOUBLE || value < -MAX_EXACT_DOUBLE;
    if (typeof value !== 'string' || kind !== 'integer' || value.length < 16 || !/^-?\d+$/.test(value)) return false;
    const integer = BigInt(value);
    return integer > MAX_EXACT_DOUBLE || integer < -MAX_EXACT_DOUBLE;
  }

  /**
   * JSON object keys must differ: a second "id" becomes "id_2", never a name the result already has
   * (with "a", "a" and "a_2", the second "a" becomes "a_3").
   */
  function uniqueKeys(names: string[]): string[] {
    const taken = new Set(names);
    const seen = new Set<string>();
    return names.map((name) => {
      let key = name;
      if (seen.has(key)) {
        let suffix = 2;
        while (taken.has(`${name}_${suffix}`) || seen.has(`${name}_${suffix}`)) suffix++;
        key = `${name}_${suffix}`;
      }
      seen.add(key);
      return key;
    });
  }

  /**
   * One JSON document: an array of row objects, or with metadata `{"rows": [...], "metadata": {...}}`.
   * The metadata comes last because the row count is only known once every row is written.
   */
  function createJsonEncoder(
    columns: QueryColumn[],
    metadata: ExportMetadata | null = null,
    bigIntegersAsText = false,
  ): ExportEncoder {
    const names = uniqueKeys(columns.map((column) => column.name));
    const keys = names.map((key) => `${JSON.stringify(key)}:`);
    const integerColumns = columns.flatMap((column, index) =>
      column.kind === 'integer' || column.kind === 'unknown' || column.kind === 'decimal' ? [index] : [],
    );
    const big = new Set<number>();
    let rowsWritten = 0;
    const objectOf = (row: CellValue[]) => {
      const values = columns.map((column, index) => jsonValue(row[index] ?? null, column.kind));
      for (const index of integerColumns) {
        if (!isBigInteger(row[index] ?? null, columns[index]!.kind)) continue;
        big.add(index);
        if (bigIntegersAsText) values[index] = JSON.stringify(String(row[index]));
      }
      return `{${values.map((value, index) => keys[index] + value).join(',')}}`;
    };
    return {
      start: () => (metadata ? '{"rows":[' : '['),
      batch: (rows) => {
        let text = '';
        for (const row of rows) text += (rowsWritten++ === 0 ? '\n' : ',\n') + objectOf(row);
        return text;
      },
      skip: (rowCount, bigIntegerColumns = []) => {
        rowsWritten += rowCount;
        for (const index of bigIntegerColumns) big.add(index);
      },
      bigIntegerColumns: () => [...big].sort((a, b) => a - b),
      end: () => {
        const close = rowsWritten === 0 ? ']' : '\n]';
        if (!metadata) return `${close}\n`;
        const block = {
          query: metadata.query,
          title: metadata.title,
          generatedAt: new Date(metadata.generatedAt).toISOString(),
          rowCount: rowsWritten,
          columns: columns.map((column) => ({ name: column.name, kind: column.kind })),
          // Integers a double cannot hold: JavaScript's JSON.parse rounds them unless they are text.
          bigIntegerColumns: [...big].sort((a, b) => a - b).map((index) => names[index]!),
          bigIntegersAsText,
          formatVersion: JSON_FORMAT_VERSION,
        };
        return `${close},\n"metadata":${JSON.stringify(block)}}\n`;
      },
    };
  }

  function createEncoder(
    format: EncodableFormat,
    columns: QueryColumn[],
    options: EncoderOptions,
    metadata: ExportMetadata | null = null,
  ): ExportEncoder {
    return format === 'csv'
      ? createCsvEncoder(columns, options)
      : createJsonEncoder(columns, options.includeMetadata ? metadata : null, options.jsonBigIntegersAsText);
  }

  return {
    JSON_FORMAT_VERSION,
    isNumericKind,
    cellText,
    csvCell,
    runsAsFormula,
    jsonValue,
    createCsvEncoder,
    uniqueKeys,
    createJsonEncoder,
    createEncoder,
  };
}
