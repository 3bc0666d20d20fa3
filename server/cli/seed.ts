// npm run seed -- --events N: regenerates the demo data source deterministically.
import { parseArgs } from 'node:util';
import { getEnv } from '../env';
import { seedDemoData } from '../seed/seed';

const { values } = parseArgs({ options: { events: { type: 'string' } } });
const env = getEnv();
const events = values.events === undefined ? env.DEMO_EVENTS : Number(values.events.replace(/[_,]/g, ''));
if (!Number.isInteger(events) || events < 0) {
  console.error(`--events takes a whole number, got "${values.events}"`);
  process.exit(2);
}
const started = performance.now();
await seedDemoData(env.dataDatabaseUrl, { events });
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `Seeded ${events.toLocaleString('en-US')} events into ${env.dataDatabaseUrl.replace(/\/\/[^@]*@/, '//')} in ${seconds} s`,
);
