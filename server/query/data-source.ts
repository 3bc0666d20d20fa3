import type { EncodableFormat, EncoderOptions, ExportMetadata } from '../export/encoding';
import type { GuardedSql, SqlDialect } from './guard';
import { AskportError } from '../errors';
import type { CellValue, ColumnKind, QueryColumn, RowBatches } from '../export/values';

export type { CellValue, ColumnKind, QueryColumn } from '../export/values';

export interface QueryPreview {
  columns: QueryColumn[];
  /** The first rows, each value cut to PREVIEW_CELL_CHARS (see `cutCellText`), within PREVIEW_MAX_BYTES. */
  rows: CellValue[][];
  totalRows: number;
  /** The allowed tables the statement reads, as the guard found them. */
  tables: string[];
  /** How many values were cut short for the preview (the export carries them whole). */
  cutCells: number;
  /** True when fewer rows are shown than asked for because the preview reached PREVIEW_MAX_BYTES. */
  bytesLimited: boolean;
}

/** A query's rows as a data source streams them (a cursor, a query process). */
export type RowStream = RowBatches;

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

/**
 * The database users query. Opened read-only; never the app database. Every statement it is given
 * passes its dialect's guard first (the same decision `check` makes), however it is run.
 */
export interface DataSource {
  dialect: SqlDialect;
  /** Tables users may query: the allow-list the SQL guard checks against. */
  listTables(): Promise<string[]>;
  /** Each allowed table's columns with their kinds, from the database's own catalog (one round trip). */
  describeTables(): Promise<Array<{ table: string; columns: QueryColumn[] }>>;
  /** The guard's decision on a statement, as this database reads it; throws SqlRefusedError with a sentence. */
  check(sql: string): Promise<GuardedSql>;
  /** The first `limit` rows and the total row count, from one snapshot. */
  preview(sql: string, limit: number): Promise<QueryPreview>;
  /**
   * Every row, a batch at a time, pulled only as fast as the consumer reads. The first batch is read
   * before this resolves, so a query that fails before its first row fails here, before any byte.
   */
  stream(sql: string, options?: StreamOptions): Promise<RowStream>;
  /**
   * The fast path: the file encoded where the data is read (SQLite's query process, PostgreSQL's
   * COPY), with the same bytes as `stream` plus the encoder. Null when this source cannot encode
   * this format or these columns exactly; the caller then encodes rows from `stream`.
   */
  streamEncoded?(sql: string, file: EncodeRequest): Promise<EncodedStream | null>;
  /** Checks at start that the source can be used safely (PostgreSQL: an unprivileged role); throws a sentence for the operator. */
  verify(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_BATCH_SIZE = 1_000;

/** How a data source is opened, besides its statement timeout: the limits that keep one query from taking the server down. */
export interface DataSourceOptions {
  /** Largest value (bytes) an export may hold in memory; a larger one fails the export with a sentence naming the column. */
  maxCellBytes: number;
  /** PostgreSQL: accept a superuser or otherwise privileged role as the data source (the operator says so). */
  allowPrivileged: boolean;
}

export const DEFAULT_MAX_CELL_BYTES = 16 * 1024 * 1024;

/** A preview value cut short: its start, then how long the whole value is. */
export function cutCellText(start: string, length: number, unit: 'characters' | 'bytes'): string {
  return `${start}… (${length.toLocaleString('en-US')} ${unit} in all; the export has it whole)`;
}

/** The sentence for a value over the export limit. */
export function valueTooLargeMessage(column: string, maxCellBytes: number): string {
  const mb = (maxCellBytes / (1024 * 1024)).toLocaleString('en-US', { maximumFractionDigits: 1 });
  return `A value in column "${column}" is larger than the ${mb} MB one exported value may hold (EXPORT_MAX_CELL_BYTES), so the export stopped.`;
}

/** The sentence for a row whose values together are over the export limit. */
export function rowTooLargeMessage(maxCellBytes: number): string {
  const mb = (maxCellBytes / (1024 * 1024)).toLocaleString('en-US', { maximumFractionDigits: 1 });
  return `A row of this result holds more than ${mb} MB (EXPORT_MAX_CELL_BYTES), so the export stopped.`;
}

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
