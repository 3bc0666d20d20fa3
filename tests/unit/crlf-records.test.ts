import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { crlfRecords } from '@/server/query/crlf-records';

// PostgreSQL's COPY writes LF record ends; the fast path turns them into CRLF without touching LFs
// inside quoted fields, however the network splits the bytes.

// As the CSV encoder writes: fields with CR or LF quoted (COPY does the same).
const QUOTE_BREAKS = { quoted_match: ['\n', '\r'] };
const VALUES = [
  'plain',
  'line\nbreak',
  'a "quoted" word',
  '"',
  '""',
  'crlf\r\ninside',
  ',',
  '',
  'tail"\n',
  'ünï 🚀',
  '\n',
];

function randomRecords(count: number, seed: number): string[][] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 }, () => VALUES[Math.floor(random() * VALUES.length)]!),
  );
}

async function convert(input: Buffer, chunkSizes: () => number): Promise<{ text: string; rows: number }> {
  async function* chunks() {
    for (let offset = 0; offset < input.length; ) {
      const size = Math.max(1, chunkSizes());
      yield input.subarray(offset, offset + size);
      offset += size;
    }
  }
  const parts: Uint8Array[] = [];
  let rows = 0;
  for await (const batch of crlfRecords(chunks())) {
    parts.push(batch.bytes);
    rows += batch.rows;
  }
  return { text: Buffer.concat(parts).toString('utf8'), rows };
}

describe('CRLF record ends for COPY CSV', () => {
  it.each([1, 2, 3, 7, 64, 100_000])("gives csv-stringify's CRLF bytes with chunks of %i bytes", async (size) => {
    const records = randomRecords(500, size);
    const lf = Buffer.from(stringify(records, QUOTE_BREAKS));
    const { text, rows } = await convert(lf, () => size);
    expect(text).toBe(stringify(records, { ...QUOTE_BREAKS, record_delimiter: 'windows' }));
    expect(rows).toBe(500);
  });

  it('survives random chunk boundaries', async () => {
    let seed = 7;
    const sizes = () => {
      seed = (seed * 48271) % 2147483647;
      return (seed % 97) + 1;
    };
    for (let round = 0; round < 20; round++) {
      const records = randomRecords(200, round + 1);
      expect((await convert(Buffer.from(stringify(records, QUOTE_BREAKS)), sizes)).text).toBe(
        stringify(records, { ...QUOTE_BREAKS, record_delimiter: 'windows' }),
      );
    }
  });
});
