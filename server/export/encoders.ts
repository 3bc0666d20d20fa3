import { stringify } from 'csv-stringify/sync';
import type { CellValue, QueryColumn } from '../query/data-source';
import { csvCell, jsonValue } from './cells';


/**
 * Turns batches of rows into text. Every batch ends on a row boundary and nothing depends on where
 * batches split, so the bytes are the same whatever the batch size.
 */
export interface ExportEncoder {
  start(): string;
  batch(rows: CellValue[][]): string;
  end(): string;
}

export interface EncoderOptions {
  csvByteOrderMark: boolean;
  neutraliseFormulas: boolean;
  /** JSON: `{"rows": [...], "metadata": {...}}` instead of a bare array. */
  includeMetadata: boolean;
}

export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = { csvByteOrderMark: false, neutraliseFormulas: true, includeMetadata: false };

/** What the JSON metadata block says about the file, besides the row count it counts itself. */
export interface ExportMetadata {
  query: string;
  title: string;
  generatedAt: Date;
}

export const JSON_FORMAT_VERSION = 1;

export function createCsvEncoder(columns: QueryColumn[], options: EncoderOptions): ExportEncoder {
  // RFC 4180: CRLF between records; fields with a comma, quote, CR or LF are quoted.
  const csvOptions = { record_delimiter: 'windows', quoted_match: ['\n', '\r'] };
  return {
    start: () => (options.csvByteOrderMark ? '\ufeff' : '') + stringify([columns.map((column) => column.name)], csvOptions),
    batch: (rows) => stringify(rows.map((row) => columns.map((column, index) => csvCell(row[index] ?? null, column.kind, options.neutraliseFormulas))), csvOptions),
    end: () => '',
  };
}

/** JSON object keys must differ: a second "id" becomes "id_2". */
export function uniqueKeys(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let key = name;
    for (let suffix = 2; seen.has(key); suffix++) key = `${name}_${suffix}`;
    seen.add(key);
    return key;
  });
}

/**
 * One JSON document: an array of row objects, or with metadata `{"rows": [...], "metadata": {...}}`.
 * The metadata comes last because the row count is only known once every row is written.
 */
export function createJsonEncoder(columns: QueryColumn[], metadata: ExportMetadata | null = null): ExportEncoder {
  const keys = uniqueKeys(columns.map((column) => column.name)).map((key) => `${JSON.stringify(key)}:`);
  let rowsWritten = 0;
  const objectOf = (row: CellValue[]) => `{${columns.map((column, index) => keys[index] + jsonValue(row[index] ?? null, column.kind)).join(',')}}`;
  return {
    start: () => (metadata ? '{"rows":[' : '['),
    batch: (rows) => {
      let text = '';
      for (const row of rows) text += (rowsWritten++ === 0 ? '\n' : ',\n') + objectOf(row);
      return text;
    },
    end: () => {
      const close = rowsWritten === 0 ? ']' : '\n]';
      if (!metadata) return `${close}\n`;
      const block = { query: metadata.query, title: metadata.title, generatedAt: metadata.generatedAt.toISOString(), rowCount: rowsWritten, columns: columns.map((column) => ({ name: column.name, kind: column.kind })), formatVersion: JSON_FORMAT_VERSION };
      return `${close},\n"metadata":${JSON.stringify(block)}}\n`;
    },
  };
}

export function createEncoder(format: 'csv' | 'json', columns: QueryColumn[], options: EncoderOptions, metadata: ExportMetadata | null = null): ExportEncoder {
  return format === 'csv' ? createCsvEncoder(columns, options) : createJsonEncoder(columns, options.includeMetadata ? metadata : null);
}
