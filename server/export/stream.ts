import type { ExportFormat } from '@/lib/export-request';
import type { DataSource, EncodedStream, RowStream } from '../query/data-source';
import { createEncoder, type EncoderOptions, type ExportEncoder, type ExportMetadata } from './encoders';
import { type CutCounter, encodeXlsx } from './xlsx';

/** Encoded text, a batch at a time, with the number of rows each piece holds. */
async function* encodeRows(rows: RowStream, encoder: ExportEncoder): AsyncGenerator<{ text: string; rows: number }> {
  yield { text: encoder.start(), rows: 0 };
  for await (const batch of rows) yield { text: encoder.batch(batch), rows: batch.length };
  yield { text: encoder.end(), rows: 0 };
}

const textEncoder = new TextEncoder();

/** One file of any format from a row stream, as bytes; `onRows` hears how many rows each piece covered. */
export async function* encodeFile(
  format: ExportFormat,
  rows: RowStream,
  options: EncoderOptions,
  metadata: ExportMetadata,
  onRows: (count: number) => void,
  cuts?: CutCounter,
): AsyncGenerator<Uint8Array> {
  if (format === 'xlsx') {
    yield* encodeXlsx(rows, onRows, undefined, undefined, cuts);
    return;
  }
  for await (const piece of encodeRows(rows, createEncoder(format, rows.columns, options, metadata))) {
    onRows(piece.rows);
    yield textEncoder.encode(piece.text);
  }
}

/** The bytes of a file the data source encoded, counting rows as they pass. */
async function* encodedBytes(encoded: EncodedStream, onRows: (count: number) => void): AsyncGenerator<Uint8Array> {
  for await (const batch of encoded) {
    onRows(batch.rows);
    yield batch.bytes;
  }
}

export interface EncodedFile {
  chunks: AsyncGenerator<Uint8Array>;
  /** Stops the cursor and releases the connection even if no chunk was ever read. */
  close: () => Promise<void>;
}

/**
 * Opens one query's file: encoded by the data source where it can (its fast path), else from rows.
 * Both give the same bytes. SQL errors surface here, before any byte.
 */
export async function openEncodedFile(
  dataSource: DataSource,
  sql: string,
  format: ExportFormat,
  options: EncoderOptions,
  metadata: ExportMetadata,
  onRows: (count: number) => void,
  cuts?: CutCounter,
): Promise<EncodedFile> {
  if (format !== 'xlsx' && dataSource.streamEncoded) {
    const encoded = await dataSource.streamEncoded(sql, { format, options, metadata });
    if (encoded) return { chunks: encodedBytes(encoded, onRows), close: () => encoded.close() };
  }
  const rows = await dataSource.stream(sql);
  return { chunks: encodeFile(format, rows, options, metadata, onRows, cuts), close: () => rows.close() };
}
