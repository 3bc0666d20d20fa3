// npm run bench — export throughput of the built app against the sqlite3 shell (and psql COPY with
// --postgres), in one run. Prints figures; asserts nothing.
//
// Seeds 1,000,000 events into data/bench/ if needed, builds the app if there is no build, starts it
// with that data, creates an API token, then exports `select * from events order by id` through
// POST /api/v1/exports in each format, measuring wall time, time to first byte and the peak RSS of
// the server's process group (the server and its query processes).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { readOnlyRoleUrl } from '../helpers/databases';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    postgres: { type: 'boolean', default: false },
    formats: { type: 'string', default: 'csv,json' },
  },
});
const EVENTS = Number(values.events);
const SQL = 'select * from events order by id';
const root = process.cwd();
const dataDir = path.join(root, 'data', 'bench');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const postgresUrl = process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/askport_bench';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** RSS of the group's leader (the web server) and of every process in the group, in bytes (Linux /proc). */
function groupRss(pgid: number): { server: number; total: number } {
  let total = 0;
  let server = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (!rss) continue;
      total += Number(rss[1]) * 1024;
      if (Number(entry) === pgid) server = Number(rss[1]) * 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return { server, total };
}

function timeCommand(command: string, args: string[], env?: NodeJS.ProcessEnv): { seconds: number; bytes: number } {
  const started = performance.now();
  const result = spawnSync(command, args, { env, maxBuffer: 4 * 1024 ** 3, encoding: 'buffer' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return { seconds: (performance.now() - started) / 1000, bytes: result.stdout.byteLength };
}

async function ensureSeeded(env: NodeJS.ProcessEnv): Promise<void> {
  let count = 0;
  if (values.postgres) {
    const admin = new pg.Client({ connectionString: postgresUrl.replace(/\/[^/]+$/, '/postgres') });
    await admin.connect();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      new URL(postgresUrl).pathname.slice(1),
    ]);
    if (!exists.rowCount) await admin.query(`CREATE DATABASE ${new URL(postgresUrl).pathname.slice(1)}`);
    await admin.end();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    count = Number(
      (await client.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'events'")).rows[0].n,
    )
      ? Number((await client.query('SELECT count(*) AS n FROM events')).rows[0].n)
      : 0;
    await client.end();
  } else if (existsSync(path.join(dataDir, 'demo.db'))) {
    const db = new Database(path.join(dataDir, 'demo.db'), { readonly: true });
    count = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
    db.close();
  }
  if (count !== EVENTS) {
    const seeded = timeCommand(bin('tsx'), ['server/cli/seed.ts', '--events', String(EVENTS)], env);
    console.log(`seeded ${EVENTS.toLocaleString('en-US')} events in ${seeded.seconds.toFixed(1)} s`);
  }
}

interface Measurement {
  label: string;
  seconds: number;
  ttfbMs: number | null;
  bytes: number;
  peakRss: { server: number; total: number } | null;
}

async function exportThroughApi(baseUrl: string, token: string, format: string, pgid: number): Promise<Measurement> {
  let peak = groupRss(pgid);
  const sampler = setInterval(() => {
    const now = groupRss(pgid);
    peak = { server: Math.max(peak.server, now.server), total: Math.max(peak.total, now.total) };
  }, 50);
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/v1/exports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: SQL, format }),
  });
  if (!response.ok || !response.body) throw new Error(`${format}: HTTP ${response.status} ${await response.text()}`);
  let ttfb: number | null = null;
  let bytes = 0;
  for await (const chunk of response.body) {
    ttfb ??= performance.now() - started;
    bytes += (chunk as Uint8Array).byteLength;
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  return { label: `Askport ${format.toUpperCase()}`, seconds, ttfbMs: ttfb, bytes, peakRss: peak };
}

const env: NodeJS.ProcessEnv = {
  ...process.env,
  ASKPORT_DATA_DIR: dataDir,
  NEXT_TELEMETRY_DISABLED: '1',
  NODE_ENV: 'production',
  EXPORT_RATE_LIMIT_PER_MINUTE: '1000',
  QUERY_TIMEOUT_MS: '120000',
};
delete env.DATABASE_URL;
if (values.postgres) env.DATA_DATABASE_URL = postgresUrl;
else delete env.DATA_DATABASE_URL;

await ensureSeeded(env);
// The server reads the data source as the README deploys it: through the read-only role.
if (values.postgres) env.DATA_DATABASE_URL = await readOnlyRoleUrl(postgresUrl);
if (!existsSync(path.join(root, '.next', 'BUILD_ID'))) execFileSync(bin('next'), ['build'], { stdio: 'inherit', env });
execFileSync(bin('tsx'), ['server/cli/setup.ts'], { stdio: 'ignore', env });
const token = execFileSync(bin('tsx'), ['server/cli/token.ts', '--email', 'bench@askport.dev'], {
  env,
  encoding: 'utf8',
}).trim();
const port = await freePort();
const server = spawn(bin('next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
  env,
  stdio: 'ignore',
  detached: true,
});
const baseUrl = `http://127.0.0.1:${port}`;
try {
  for (let attempt = 0; attempt < 240; attempt++) {
    try {
      if ((await fetch(`${baseUrl}/sign-in`)).status < 500) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const idleRss = groupRss(server.pid!);
  // A small warm-up so the first measured export does not pay for route compilation and JIT.
  await exportThroughApi(baseUrl, token, 'csv', server.pid!).catch(() => undefined);

  const reference: Measurement = values.postgres
    ? {
        label: 'psql COPY … TO STDOUT CSV HEADER',
        ...timeCommand('psql', [postgresUrl, '-c', `COPY (${SQL}) TO STDOUT CSV HEADER`]),
        ttfbMs: null,
        peakRss: null,
      }
    : {
        label: 'sqlite3 -csv -header',
        ...timeCommand('sqlite3', ['-csv', '-header', path.join(dataDir, 'demo.db'), SQL]),
        ttfbMs: null,
        peakRss: null,
      };
  const results: Measurement[] = [reference];
  for (const format of values.formats.split(','))
    results.push(await exportThroughApi(baseUrl, token, format, server.pid!));

  const source = values.postgres ? 'PostgreSQL' : 'SQLite';
  console.log(
    `\n${EVENTS.toLocaleString('en-US')} events from ${source}: ${SQL}  (idle RSS: server ${(idleRss.server / 1024 ** 2).toFixed(0)} MB, with its query processes ${(idleRss.total / 1024 ** 2).toFixed(0)} MB)\n`,
  );
  console.log(
    '| what | wall time | vs reference | time to first byte | bytes | peak RSS: server process | peak RSS: with query processes |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const result of results) {
    console.log(
      `| ${result.label} | ${result.seconds.toFixed(2)} s | ${(result.seconds / reference.seconds).toFixed(2)}× | ${result.ttfbMs === null ? '—' : `${result.ttfbMs.toFixed(0)} ms`} | ${(result.bytes / 1024 ** 2).toFixed(1)} MiB | ${result.peakRss === null ? '— | —' : `${(result.peakRss.server / 1024 ** 2).toFixed(0)} MB | ${(result.peakRss.total / 1024 ** 2).toFixed(0)} MB`} |`,
    );
  }
} finally {
  process.kill(-server.pid!, 'SIGTERM');
}
