import type { EncodedBatch } from './data-source';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * COPY's CSV with each record's LF made CRLF (RFC 4180, as csv-stringify writes), a network chunk at
 * a time. LFs inside quoted fields stay as they are: a quote toggles the state (a doubled quote
 * toggles it twice), and the state carries over chunk boundaries.
 */
export async function* crlfRecords(copy: AsyncIterable<Buffer>): AsyncGenerator<EncodedBatch> {
  let inQuotes = false;
  for await (const chunk of copy) {
    // Each record end grows by one byte, so twice the chunk always fits.
    const output = Buffer.allocUnsafe(chunk.length * 2);
    let written = 0;
    let rows = 0;
    let copiedUpTo = 0;
    let position = 0;
    // The next quote and LF at or after `position`, searched again only once passed (-1: none left).
    let nextQuote = chunk.indexOf(QUOTE);
    let nextLf = chunk.indexOf(LF);
    while (position < chunk.length) {
      if (nextQuote !== -1 && nextQuote < position) nextQuote = chunk.indexOf(QUOTE, position);
      if (inQuotes) {
        if (nextQuote === -1) break; // the quoted field goes on in the next chunk
        inQuotes = false;
        position = nextQuote + 1;
        continue;
      }
      if (nextLf !== -1 && nextLf < position) nextLf = chunk.indexOf(LF, position);
      if (nextQuote !== -1 && (nextLf === -1 || nextQuote < nextLf)) {
        inQuotes = true;
        position = nextQuote + 1;
        continue;
      }
      if (nextLf === -1) break;
      written += chunk.copy(output, written, copiedUpTo, nextLf);
      output[written++] = CR;
      output[written++] = LF;
      copiedUpTo = position = nextLf + 1;
      rows++;
    }
    written += chunk.copy(output, written, copiedUpTo);
    yield { rows, bytes: output.subarray(0, written) };
  }
}
