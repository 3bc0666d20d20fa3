import type { EncodableFormat, EncoderOptions, ExportMetadata } from '../export/encoding';
import type { CellValue, QueryColumn } from '../export/values';

// The messages between the server and a SQLite query process (sqlite-query-process.ts), over IPC as
// JSON. The process answers each request in order, with one reply.

export type QueryRequest =
  | { kind: 'tables' }
  | { kind: 'describe' }
  | { kind: 'check'; sql: string }
  | { kind: 'preview'; sql: string; limit: number; cellChars: number; maxBytes: number }
  | { kind: 'open'; sql: string }
  | {
      kind: 'encoder';
      format: EncodableFormat;
      columns: QueryColumn[];
      options: EncoderOptions;
      metadata: ExportMetadata;
    }
  | { kind: 'next'; batchSize: number; encode: boolean; batchBytes: number; maxCellBytes: number };

/** A column as SQLite declares it. */
export interface DeclaredColumn {
  name: string;
  type: string | null;
}

export type QueryReply =
  | { kind: 'tables'; tables: string[] }
  | { kind: 'described'; tables: Array<{ table: string; columns: DeclaredColumn[] }> }
  | { kind: 'checked'; tables: string[] }
  | {
      kind: 'preview';
      columns: DeclaredColumn[];
      rows: CellValue[][];
      totalRows: number;
      tables: string[];
      cutCells: number;
      bytesLimited: boolean;
      /** Some values are tagged (see TaggedValue) because JSON cannot carry them. */
      special: boolean;
    }
  | { kind: 'opened'; columns: DeclaredColumn[] }
  | { kind: 'encoder' }
  | { kind: 'encoded'; text: string; rows: number; done: boolean; bigIntegerColumns: number[] }
  | { kind: 'batch'; rows: CellValue[][]; done: boolean; special: boolean }
  | { kind: 'error'; message: string; refused: boolean }
  | { kind: 'ready' };

/** A value JSON cannot carry, as the process sends it. */
export type TaggedValue =
  | { $bigint: string }
  | { $bytes: string }
  | { $number: string }
  | { $cut: string; length: number; unit: 'characters' | 'bytes' };
