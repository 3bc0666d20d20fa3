import type { EncodableFormat, EncoderOptions, ExportMetadata } from '../export/encoding';
import type { SqlDialect } from './guard';
import { AskportError } from '../errors';

/** What a column holds, as far as the data source says; writers use it to keep numbers exact. */
export type ColumnKind = 'integer' | 'decimal' | 'float' | 'boolean' | 'timestamp' | 'date' | 'text' | 'binary' | 'unknown';

export interface QueryColumn {
  name: string;
  kind: ColumnKind;
}

/** A cell as it leaves a data source: bigint for integers beyond 2^53, strings for exact decimals. */
export type CellValue = string | number | bigint | boolean | Date | Uint8Array | null;

export interface QueryPreview {
  columns: QueryColumn[];
  rows: CellValue[][];
  totalRows: number;
}

export interface RowStream extends AsyncIterable<CellValue[][]> {
  columns: QueryColumn[];
  /** Stops the cursor and releases the connection; safe to call more than once. */
  close(): Promise<void>;
}

/** Part of a file as the data source encoded it: the bytes and how many rows they hold. */
export interface EncodedBatch {
  rows: number;
  bytes: Uint8Array;
}

/** A whole file (header to end) encoded by the data source, a batch at a time. */
export interface EncodedStream extends AsyncIterable<EncodedBatch> {
  columns: QueryColumn[];
  close(): Promise<void>;
}

export interface EncodeRequest {
  format: EncodableFormat;
  options: EncoderOptions;
  metadata: ExportMetadata;
}

export interface StreamOptions {
  batchSize?: number;
}

/** The database users query. Opened read-only; never the app database. */
export interface DataSource {
  dialect: SqlDialect;
  /** Tables users may query: the allow-list the SQL guard checks against. */
  listTables(): Promise<string[]>;
  /** The first `limit` rows and the total row count, from one snapshot. */
  preview(sql: string, limit: number): Promise<QueryPreview>;
  /** Every row, a batch at a time, pulled only as fast as the consumer reads. */
  stream(sql: string, options?: StreamOptions): Promise<RowStream>;
  /**
   * The fast path: the file encoded where the data is read (SQLite's query process, PostgreSQL's
   * COPY), with the same bytes as `stream` plus the encoder. Null when this source cannot encode
   * this format or these columns exactly; the caller then encodes rows from `stream`.
   */
  streamEncoded?(sql: string, file: EncodeRequest): Promise<EncodedStream | null>;
  close(): Promise<void>;
}

export const DEFAULT_BATCH_SIZE = 1_000;

export class QueryTimeoutError extends AskportError {
  static readonly brand: string = 'QueryTimeoutError';
  constructor(timeoutMs: number) {
    super(`The query took longer than ${Math.round(timeoutMs / 1000)} s and was stopped.`);
  }
}

/** The data source went away mid-query or refuses connections (a restart, a network cut). */
export class DataSourceUnavailableError extends AskportError {
  static readonly brand: string = 'DataSourceUnavailableError';
  constructor() {
    super('The connection to the database was lost. Please try again in a moment.');
  }
}

/** A database error that is safe to show: SQLite and PostgreSQL messages name columns, not secrets. */
export class QueryExecutionError extends AskportError {
  static readonly brand: string = 'QueryExecutionError';
}

/** SQL declared type → column kind, using SQLite's affinity rules (which PostgreSQL names also fit). */
export function kindFromDeclaredType(declared: string | null | undefined): ColumnKind {
  if (!declared) return 'unknown';
  const type = declared.toUpperCase();
  if (type.includes('INT')) return 'integer';
  if (type.includes('DEC') || type.includes('NUMERIC')) return 'decimal';
  if (type.includes('REAL') || type.includes('FLOA') || type.includes('DOUB')) return 'float';
  if (type.includes('BOOL')) return 'boolean';
  if (type.includes('TIMESTAMP') || type.includes('DATETIME')) return 'timestamp';
  if (type === 'DATE') return 'date';
  if (type.includes('BLOB') || type.includes('BYTEA')) return 'binary';
  return 'text';
}
