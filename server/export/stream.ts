import type { ExportFormat } from '@/lib/export-request';
import type { RowStream } from '../query/data-source';
import { createEncoder, type EncoderOptions, type ExportEncoder, type ExportMetadata } from './encoders';
import { encodeXlsx } from './xlsx';

/** Encoded text, a batch at a time, with the number of rows each piece holds. */
export async function* encodeRows(rows: RowStream, encoder: ExportEncoder): AsyncGenerator<{ text: string; rows: number }> {
  yield { text: encoder.start(), rows: 0 };
  for await (const batch of rows) yield { text: encoder.batch(batch), rows: batch.length };
  yield { text: encoder.end(), rows: 0 };
}

const textEncoder = new TextEncoder();

/** One file of any format from a row stream, as bytes; `onRows` hears how many rows each piece covered. */
export async function* encodeFile(format: ExportFormat, rows: RowStream, options: EncoderOptions, metadata: ExportMetadata, onRows: (count: number) => void): AsyncGenerator<Uint8Array> {
  if (format === 'xlsx') {
    yield* encodeXlsx(rows, onRows);
    return;
  }
  for await (const piece of encodeRows(rows, createEncoder(format, rows.columns, options, metadata))) {
    onRows(piece.rows);
    yield textEncoder.encode(piece.text);
  }
}
