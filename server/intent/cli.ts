// npm run --silent intent < utterances.jsonl > intents.jsonl
// One JSON object per input line (its `text` field), one JSON line out per line in, in order. Pure:
// no network, no key. A line that is not JSON with a string `text` gives an `error` line instead.
import { createInterface } from 'node:readline';
import { parseIntent } from './parser';

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
    const intent = parseIntent(text);
    out.push(
      `${JSON.stringify({ text, intent: intent.intent, format: intent.format, target: intent.target, nth: intent.nth, confidence: intent.confidence })}\n`,
    );
  }
  if (out.length >= 512) flush();
}
flush();
