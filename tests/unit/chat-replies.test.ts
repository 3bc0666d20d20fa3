import { describe, expect, it } from 'vitest';
import { chooseResults, confirmExport, exportDescription, resultText, type RunSummary } from '@/server/chat/replies';

// The chat's decisions without a database: which results an export means, and what the replies say.

const runs: RunSummary[] = [
  { id: 'r1', position: 1, title: 'orders', rowCount: 1_234 },
  { id: 'r2', position: 2, title: 'customers', rowCount: 1 },
  { id: 'r3', position: 3, title: 'events', rowCount: 0 },
];
const intent = (
  target: 'latest' | 'previous' | 'nth' | 'all',
  nth: number | null = null,
  format: 'csv' | null = null,
) => ({ target, nth, format });

describe('which results an export means', () => {
  it('"this" is the latest result, "the one before" the previous, "query 2" the second, "all" every one as a ZIP', () => {
    expect(chooseResults(runs, intent('latest'))).toEqual({ runs: [runs[2]], archive: false });
    expect(chooseResults(runs, intent('previous'))).toEqual({ runs: [runs[1]], archive: false });
    expect(chooseResults(runs, intent('nth', 2))).toEqual({ runs: [runs[1]], archive: false });
    expect(chooseResults(runs, intent('all'))).toEqual({ runs, archive: true });
  });

  it('asks, never guesses, when the chat has no such result', () => {
    const missing = chooseResults(runs, intent('nth', 9, 'csv'));
    expect(missing).toMatchObject({
      ask: {
        content:
          'This chat has 3 queries, so there is no query 9: 1 · orders (1,234 rows); 2 · customers (1 row); 3 · events (0 rows). Which one?',
      },
    });
    const options = 'ask' in missing && missing.ask.payload?.kind === 'choice' ? missing.ask.payload.options : [];
    expect(options.map((option) => option.action)).toEqual(
      [1, 2, 3].map((position) => ({ kind: 'send', text: `export query ${position} as csv` })),
    );
    const onlyOne = chooseResults(runs.slice(0, 1), intent('previous'));
    expect(onlyOne).toMatchObject({
      ask: { content: 'This chat has only one result: 1 · orders (1,234 rows). Export that one?' },
    });
  });
});

describe('what the replies say', () => {
  it('describes one file, a ZIP, the default format and each its own format', () => {
    expect(exportDescription([runs[0]!], 'csv', false, false)).toBe('1,234 rows as CSV — opens in any spreadsheet');
    expect(exportDescription([runs[0]!], 'xlsx', false, true)).toBe('1,234 rows as Excel — your default format');
    expect(exportDescription(runs, 'json', true, false)).toBe(
      '3 queries (1,235 rows) as JSON files in one ZIP, with a manifest',
    );
    expect(exportDescription(runs.slice(0, 2), 'csv', true, false, { r1: 'xlsx' })).toBe(
      '2 queries (1,235 rows) in one ZIP, each in its own format (orders as Excel, customers as CSV), with a manifest',
    );
  });

  it('asks to confirm a doubtful export with the understood format first', () => {
    const reply = confirmExport([runs[0]!], false, 'json');
    expect(reply.content).toBe('Do you want to export "orders" (1,234 rows) as JSON?');
    expect(reply.payload?.kind === 'choice' && reply.payload.options[0]?.label).toBe('JSON');
  });

  it('says how many rows, how many are shown, and what was cut for the chat', () => {
    expect(resultText({ totalRows: 0, shown: 0, bytesLimited: false, cutCells: 0 })).toMatch(
      /^No rows match this query\./,
    );
    expect(resultText({ totalRows: 1, shown: 1, bytesLimited: false, cutCells: 0 })).toBe('1 row.');
    expect(resultText({ totalRows: 5_000, shown: 100, bytesLimited: false, cutCells: 0 })).toBe(
      '5,000 rows. Showing the first 100.',
    );
    expect(resultText({ totalRows: 5_000, shown: 12, bytesLimited: true, cutCells: 0 })).toBe(
      '5,000 rows. Showing the first 12 (the chat holds up to 512 KB of a result).',
    );
    expect(resultText({ totalRows: 1, shown: 1, bytesLimited: false, cutCells: 1 })).toBe(
      '1 row. One long value is cut to its first 500 characters here; an export carries every value whole.',
    );
    expect(resultText({ totalRows: 3, shown: 3, bytesLimited: false, cutCells: 3 })).toBe(
      '3 rows. 3 long values are cut to their first 500 characters here; an export carries every value whole.',
    );
  });
});
