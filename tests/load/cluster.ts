import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openAppDb, type AppDb } from '@/server/db/client';
import { seedDemoData } from '@/server/seed/seed';
import { createPostgresDatabase, readOnlyRoleUrl } from '../helpers/databases';

// The scale-out deployment on one machine: web instances (`next start`) and export workers
// (`npm run worker`) as separate processes on one PostgreSQL app database, a PostgreSQL data source
// and one export directory, as the README describes.

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Builds the app once if there is no build (`npm run build` output is reused otherwise). */
export function ensureBuilt(): void {
  if (existsSync(path.join(root, '.next', 'BUILD_ID')) && process.env.LOAD_REBUILD !== '1') return;
  const build = spawnSync(bin('next'), ['build'], {
    cwd: root,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
    stdio: 'inherit',
  });
  if (build.status !== 0) throw new Error('next build failed');
}

/** Polls until the probe returns something; a probe that throws (a database restarting) counts as not yet. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ClusterProcess {
  name: string;
  child: ChildProcess;
  /** Everything it printed (pino JSON lines), for finding which worker ran an export. */
  output: () => string;
  /** Peak RSS seen by `sampleRss`, in bytes. */
  peakRss: number;
}

export interface Cluster {
  webs: Array<ClusterProcess & { baseUrl: string }>;
  workers: ClusterProcess[];
  db: AppDb;
  appUrl: string;
  dataUrl: string;
  exportDir: string;
  startWorker(): ClusterProcess;
  sampleRss(): void;
  stop(): Promise<void>;
}

/** Each process's output also goes to a file here, to read after a failed run. */
export const LOG_DIR = path.join(tmpdir(), 'askport-load-logs');

function track(name: string, child: ChildProcess): ClusterProcess {
  const chunks: string[] = [];
  mkdirSync(LOG_DIR, { recursive: true });
  const file = path.join(LOG_DIR, `${name.replace(/\s+/g, '-')}.log`);
  writeFileSync(file, '');
  const keep = (chunk: Buffer) => {
    chunks.push(chunk.toString('utf8'));
    appendFileSync(file, chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, child, output: () => chunks.join(''), peakRss: 0 };
}

function statusRss(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS of a process and all its descendants (`tsx` runs the worker in a child; Next may fork). */
function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 4th field, after the parenthesised command name.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    total += statusRss(next);
    pending.push(...(children.get(next) ?? []));
  }
  return total;
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the process exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url, { redirect: 'manual' })).status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export async function startCluster(options: {
  webs: number;
  workers: number;
  events: number;
  exportDir?: string;
  env?: Record<string, string>;
}): Promise<Cluster> {
  const appDatabase = await createPostgresDatabase();
  const dataDatabase = await createPostgresDatabase();
  await seedDemoData(dataDatabase.url, { events: options.events });
  const ownExportDir = options.exportDir ? null : mkdtempSync(path.join(tmpdir(), 'askport-load-exports-'));
  const exportDir = options.exportDir ?? ownExportDir!;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'askport-load-data-'));
  const { OPENAI_API_KEY: _key, OPENAI_BASE_URL: _url, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    ASKPORT_DATA_DIR: dataDir,
    DATABASE_URL: appDatabase.url,
    // As the README deploys it: the data source through a role that can only SELECT.
    DATA_DATABASE_URL: await readOnlyRoleUrl(dataDatabase.url),
    EXPORT_WORK_IN_WEB: 'false',
    EXPORT_STORAGE_DIR: exportDir,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  // Migrations once, before any process starts (each would also apply them itself).
  const db = await openAppDb(appDatabase.url);
  const webs: Cluster['webs'] = [];
  for (let index = 0; index < options.webs; index++) {
    const port = await freePort();
    const child = spawn(bin('next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    webs.push({ ...track(`web ${String.fromCharCode(65 + index)}`, child), baseUrl: `http://127.0.0.1:${port}` });
  }
  const workers: ClusterProcess[] = [];
  const startWorker = () => {
    const child = spawn(bin('tsx'), ['server/cli/worker.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const worker = track(`worker ${workers.length + 1}`, child);
    workers.push(worker);
    return worker;
  };
  for (let index = 0; index < options.workers; index++) startWorker();
  await Promise.all(webs.map((web) => waitFor(`${web.baseUrl}/sign-in`, web.child)));
  // Workers say when they work the queue.
  const deadline = Date.now() + 60_000;
  while (!workers.every((worker) => worker.output().includes('export worker ready'))) {
    if (Date.now() > deadline)
      throw new Error(`a worker did not start:\n${workers.map((worker) => worker.output()).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const all = () => [...webs, ...workers];
  return {
    webs,
    workers,
    db,
    appUrl: appDatabase.url,
    dataUrl: dataDatabase.url,
    exportDir,
    startWorker,
    sampleRss() {
      for (const process of all()) process.peakRss = Math.max(process.peakRss, rssOf(process.child.pid));
    },
    async stop() {
      for (const process of all()) {
        try {
          if (process.child.pid && process.child.exitCode === null)
            globalThis.process.kill(-process.child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await db.$disconnect();
      await appDatabase.drop().catch(() => undefined);
      await dataDatabase.drop().catch(() => undefined);
      if (ownExportDir) rmSync(ownExportDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
