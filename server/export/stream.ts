import type { RowStream } from '../query/data-source';
import type { ExportEncoder } from './encoders';

/** Encoded text, a batch at a time, with the number of rows each piece holds. */
export async function* encodeRows(rows: RowStream, encoder: ExportEncoder): AsyncGenerator<{ text: string; rows: number }> {
  yield { text: encoder.start(), rows: 0 };
  for await (const batch of rows) yield { text: encoder.batch(batch), rows: batch.length };
  yield { text: encoder.end(), rows: 0 };
}
