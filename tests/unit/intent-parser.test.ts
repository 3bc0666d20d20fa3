import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { intentSchema } from '@/lib/intent';
import { parseIntent } from '@/server/intent/parser';
import { seededDemoDatabase } from '../helpers/databases';

interface LabelledExample {
  text: string;
  intent: string;
  format: string | null;
  target: string | null;
  nth: number | null;
  /** Held back from tuning: reported separately, not required to be right. */
  heldout?: boolean;
}

function readJsonl(file: string): LabelledExample[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as LabelledExample);
}

// The shared labelled set lives beside the checkout (CI lays it there too); a clone with nothing
// beside it runs the rest and says that this part did not run.
const devSetFile = path.resolve(process.cwd(), '..', 'shared', 'intents', 'dev.jsonl');
const hasDevSet = existsSync(devSetFile);
const devSet = hasDevSet ? readJsonl(devSetFile) : [];
if (!hasDevSet) console.warn(`The shared dev set (${devSetFile}) is not beside this checkout: its test is skipped.`);
// Our own cases: other phrasings, typos, corrections, targets, and hostile or adversarial input.
const corpus = readJsonl(path.join(process.cwd(), 'tests', 'fixtures', 'intent-cases.jsonl'));
const ownCases = corpus.filter((example) => !example.heldout);
const heldOut = corpus.filter((example) => example.heldout);

/** A mistake the product would act on: a wrong export, default or cancel at acting confidence. */
function actedOnMistake(example: LabelledExample, read: ReturnType<typeof parseIntent>): boolean {
  if (read.confidence < 0.6 || read.intent === 'other') return false;
  if (read.intent !== example.intent) return read.intent !== 'export' || read.format !== null;
  if (read.format !== null && read.format !== example.format) return true;
  return read.intent === 'export' && (read.target !== example.target || read.nth !== example.nth);
}

const fieldsOf = (example: { intent: string; format: string | null; target: string | null; nth: number | null }) => ({
  intent: example.intent,
  format: example.format,
  target: example.target,
  nth: example.nth,
});

describe('fallback intent parser', () => {
  it.runIf(hasDevSet)('reads every line of the shared dev set exactly', () => {
    expect(devSet.length).toBeGreaterThanOrEqual(100);
    const wrong = devSet.filter(
      (example) => JSON.stringify(fieldsOf(parseIntent(example.text))) !== JSON.stringify(fieldsOf(example)),
    );
    expect(wrong.map((example) => [example.text, fieldsOf(parseIntent(example.text))])).toEqual([]);
  });

  it('has at least 500 cases of its own beyond the dev set, none repeating it, a fifth held back', () => {
    const devTexts = new Set(devSet.map((example) => example.text.toLowerCase()));
    expect(corpus.length).toBeGreaterThanOrEqual(500);
    expect(heldOut.length).toBeGreaterThanOrEqual(corpus.length / 5);
    expect(corpus.filter((example) => devTexts.has(example.text.toLowerCase()))).toEqual([]);
  });

  // Never tuned on: the figure says how the parser reads sentences it was not shaped by. It must not
  // fall below what it measured when the corpus was written (92 %), and it never cancels, sets a
  // default or exports in a format nobody asked for more often than it did then (5 of 101).
  it('reads the held-back cases about as well as when they were set aside', () => {
    const wrong = heldOut.filter(
      (example) => JSON.stringify(fieldsOf(parseIntent(example.text))) !== JSON.stringify(fieldsOf(example)),
    );
    const acted = heldOut.filter((example) => actedOnMistake(example, parseIntent(example.text)));
    const accuracy = (heldOut.length - wrong.length) / heldOut.length;
    console.info(
      `held-out: ${heldOut.length - wrong.length}/${heldOut.length} right (${(accuracy * 100).toFixed(1)} %), ${acted.length} acted-on mistakes`,
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.92);
    expect(acted.length).toBeLessThanOrEqual(5);
  });

  it.each(ownCases.map((example) => [example.text, example] as const))('reads %j', (text, example) => {
    expect(fieldsOf(parseIntent(text))).toEqual(fieldsOf(example));
  });

  it('always returns a valid Intent with a confidence between 0 and 1', () => {
    for (const example of [...devSet, ...ownCases]) expect(intentSchema.parse(parseIntent(example.text))).toBeTruthy();
    for (const hostile of [
      '\u0000'.repeat(100),
      'x'.repeat(4_000),
      'export '.repeat(600),
      '💥'.repeat(500),
      'a,'.repeat(2_000),
    ]) {
      expect(intentSchema.safeParse(parseIntent(hostile)).success).toBe(true);
    }
  });

  it('is deterministic', () => {
    for (const example of ownCases) expect(parseIntent(example.text)).toEqual(parseIntent(example.text));
  });

  it('asks rather than guesses when a message may or may not be an export', () => {
    expect(parseIntent('show this as csv').confidence).toBeLessThan(0.6);
    expect(parseIntent('export it as csv and json').confidence).toBeLessThan(0.6);
    expect(parseIntent('export this as csv').confidence).toBeGreaterThanOrEqual(0.9);
  });
});

describe('npm run --silent intent', () => {
  it('prints one JSON line per input line, in order, with the contract fields and the SQL of described data', async () => {
    const demo = await seededDemoDatabase('sqlite', 500);
    const input = [
      '{"text": "export this as spreadsheet", "intent": "ignored"}',
      '{"text": "always use JSON"}',
      'not json',
      '{"text": "show exports by country"}',
      '{"text": "export the orders from last month as csv"}',
      '',
    ].join('\n');
    const result = spawnSync('npm', ['run', '--silent', 'intent', '--', '--now', '2026-11-25T12:00:00Z'], {
      input,
      encoding: 'utf8',
      cwd: process.cwd(),
      env: { ...process.env, DATA_DATABASE_URL: demo.url },
    });
    await demo.remove();
    expect(result.status).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toEqual({
      text: 'export this as spreadsheet',
      intent: 'export',
      format: 'csv',
      target: 'latest',
      nth: null,
      confidence: 0.95,
      sql: null,
    });
    expect(lines[1]).toMatchObject({
      text: 'always use JSON',
      intent: 'set_default_format',
      format: 'json',
      target: null,
      nth: null,
    });
    expect(lines[2]).toMatchObject({ error: expect.stringContaining('"text"'), line: 'not json' });
    expect(lines[3]).toMatchObject({ text: 'show exports by country', intent: 'other' });
    expect(lines[4]).toMatchObject({
      intent: 'export',
      format: 'csv',
      target: 'described',
      sql: `SELECT * FROM "orders" WHERE "ordered_at" >= '2026-10-01' AND "ordered_at" < '2026-11-01'`,
    });
  }, 60_000);
});
