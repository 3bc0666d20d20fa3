// npm run --silent intent [--now <ISO timestamp>] < utterances.jsonl > intents.jsonl
// One JSON object per input line (its `text` field), one JSON line out per line in, in order. No
// network, no key. Described data is read against the configured data source's schema and values
// (the embedded demo by default, created if missing); `--now` is the clock for relative dates.
// A line that is not JSON with a string `text` gives an `error` line instead.
import { createInterface } from 'node:readline';
import { getEnv, isPostgresUrl } from '../env';
import { getDataSource } from '../query/sources';
import { ensureDemoData } from '../seed/seed';
import { readCatalog } from './catalog';
import { parseIntent } from './parser';

function clockFromArguments(args: string[]): Date {
  const at = args.indexOf('--now');
  if (at < 0) return new Date();
  const now = new Date(args[at + 1] ?? '');
  if (Number.isNaN(now.getTime())) {
    process.stderr.write('--now needs an ISO timestamp, e.g. --now 2026-11-25T12:00:00Z\n');
    process.exit(2);
  }
  return now;
}

const now = clockFromArguments(process.argv.slice(2));
const env = getEnv();
if (!isPostgresUrl(env.dataDatabaseUrl)) await ensureDemoData(env.dataDatabaseUrl, { events: env.DEMO_EVENTS });
const dataSource = getDataSource();
const catalog = await readCatalog(dataSource);
await dataSource.close();

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
const out: string[] = [];
const flush = () => {
  if (out.length > 0) process.stdout.write(out.join(''));
  out.length = 0;
};
for await (const line of lines) {
  if (line.trim().length === 0) continue;
  let text: unknown;
  try {
    text = (JSON.parse(line) as { text?: unknown }).text;
  } catch {
    text = undefined;
  }
  if (typeof text !== 'string') {
    out.push(`${JSON.stringify({ error: 'each line must be a JSON object with a string "text" field', line })}\n`);
  } else {
    const intent = parseIntent(text, { catalog, now });
    out.push(
      `${JSON.stringify({ text, intent: intent.intent, format: intent.format, target: intent.target, nth: intent.nth, confidence: intent.confidence, sql: intent.sql })}\n`,
    );
  }
  if (out.length >= 512) flush();
}
flush();
process.exit(0);
