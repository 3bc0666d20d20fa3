// What the writers encode: columns and cell values, as any data source hands them over. The writers
// (encoding.ts, xlsx.ts) know these and nothing of databases.

/** What a column holds, as far as the data source says; writers use it to keep numbers exact. */
export type ColumnKind =
  | 'integer'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'timestamp'
  | 'date'
  | 'time'
  | 'text'
  | 'binary'
  | 'unknown';

export interface QueryColumn {
  name: string;
  kind: ColumnKind;
}

/** A cell as it leaves a data source: bigint for integers beyond 2^53, strings for exact decimals. */
export type CellValue = string | number | bigint | boolean | Date | Uint8Array | null;

/** Rows a batch at a time, with their columns: what a writer reads. */
export interface RowBatches extends AsyncIterable<CellValue[][]> {
  columns: QueryColumn[];
  /** Stops the reading and releases what it holds; safe to call more than once. */
  close(): Promise<void>;
}
