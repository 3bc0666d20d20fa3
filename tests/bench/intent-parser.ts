// npm run bench:intent — time per message of the fallback parser over the shared dev set and our own
// cases. Prints figures; it asserts nothing (tests never assert on time).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseIntent } from '../../server/intent/parser';

const files = [
  path.resolve('..', 'shared', 'intents', 'dev.jsonl'),
  path.resolve('tests', 'fixtures', 'intent-cases.jsonl'),
];
const ROUNDS = 200;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

for (const file of files) {
  if (!existsSync(file)) {
    console.log(`${file}: not beside this checkout, skipped`);
    continue;
  }
  const texts = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { text: string }).text);
  for (let warm = 0; warm < 20; warm++) for (const text of texts) parseIntent(text);
  // Median over rounds for each message, then the distribution of those medians.
  const perMessage = texts.map((text) => {
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const started = process.hrtime.bigint();
      parseIntent(text);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    samples.sort((a, b) => a - b);
    return quantile(samples, 0.5);
  });
  perMessage.sort((a, b) => a - b);
  const ms = (value: number) => `${(value * 1000).toFixed(1)} µs`;
  console.log(
    `${path.basename(file)}: ${texts.length} messages × ${ROUNDS} rounds — median ${ms(quantile(perMessage, 0.5))} per message, p95 ${ms(quantile(perMessage, 0.95))}, max ${ms(perMessage.at(-1) ?? NaN)} (target: under 1 ms)`,
  );
}
