import type { ExportFormat } from '@/lib/export-request';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openAppDb, type AppDb } from '@/server/db/client';
import { openDataSource } from '@/server/query/sources';
import { seedDemoData } from '@/server/seed/seed';
import { createLocalDiskStorage } from '@/server/export/storage';
import type { ExportJobOptions } from '@/server/jobs/export-jobs';
import type { AppServices } from '@/server/app-services';
import { assembleServices } from '@/server/services';

/** The PostgreSQL server every machine of this project runs (CI starts it); override to point elsewhere. */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function tempDir(prefix = 'askport-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh, empty PostgreSQL database for one test file; dropped by the returned function. */
export async function createPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `askport_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The role the README tells operators to give the data source: it can read the tables and nothing else. */
export const READ_ONLY_ROLE = 'askport_reader';

/**
 * The same database as `databaseUrl`, reached as the read-only role (created once per server; granted
 * here for this database's tables as they are now).
 */
export async function readOnlyRoleUrl(databaseUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    // Two test files may create it at once: whoever loses the race finds it there.
    await admin.query(
      `DO $$ BEGIN CREATE ROLE ${READ_ONLY_ROLE} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    );
    const name = new URL(databaseUrl).pathname.slice(1);
    await admin.query(`GRANT CONNECT ON DATABASE ${name} TO ${READ_ONLY_ROLE}`);
    await admin.query(`GRANT USAGE ON SCHEMA public TO ${READ_ONLY_ROLE}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${READ_ONLY_ROLE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.username = READ_ONLY_ROLE;
  return url.toString();
}

export type Provider = 'sqlite' | 'postgresql';
export const PROVIDERS: Provider[] = ['sqlite', 'postgresql'];

export interface TestApp {
  services: AppServices;
  db: AppDb;
  /** The app database's URL (a SQLite file or a PostgreSQL database). */
  appDatabaseUrl: string;
  /** The PostgreSQL data source's URL as its owner (for checks a reader cannot make), when there is one. */
  dataAdminUrl: string | null;
  demoDataFile: string;
  exportDir: string;
  close: () => Promise<void>;
}

/**
 * An app database on `provider` plus a demo data source, both fresh. The data source is a SQLite file
 * (always written, so tests can count rows with better-sqlite3) or, when asked, the same demo data in
 * a PostgreSQL database.
 */
/** Five exports of one result that differ (format, archive), so none is reused as "the same export". */
export const DIFFERENT_EXPORTS: ReadonlyArray<readonly [ExportFormat, boolean]> = [
  ['csv', false],
  ['json', false],
  ['xlsx', false],
  ['csv', true],
  ['json', true],
];

export const TEST_JOB_OPTIONS: ExportJobOptions = {
  maxRunningPerUser: 2,
  maxRunning: 4,
  fileTtlMs: 60 * 60_000,
  progressIntervalMs: 200,
  cleanupIntervalMs: 60_000,
};

export async function createTestApp(
  provider: Provider,
  options: {
    events?: number;
    queryTimeoutMs?: number;
    dataSource?: Provider;
    jobs?: Partial<ExportJobOptions>;
    pgBoss?: { work: boolean };
  } = {},
): Promise<TestApp> {
  const temp = tempDir();
  const demoDataFile = path.join(temp.dir, 'demo.db');
  const sizes = { events: options.events ?? 2_500 };
  await seedDemoData(`file:${demoDataFile}`, sizes);
  const postgresApp = provider === 'postgresql' ? await createPostgresDatabase() : null;
  const postgresData = options.dataSource === 'postgresql' ? await createPostgresDatabase() : null;
  if (postgresData) await seedDemoData(postgresData.url, sizes);
  const db = await openAppDb(postgresApp ? postgresApp.url : `file:${path.join(temp.dir, 'app.db')}`);
  // The data source as the README deploys it: PostgreSQL through the read-only role.
  const dataSource = openDataSource(
    postgresData ? await readOnlyRoleUrl(postgresData.url) : `file:${demoDataFile}`,
    options.queryTimeoutMs ?? 10_000,
  );
  const storage = createLocalDiskStorage(path.join(temp.dir, 'exports'));
  const runner =
    options.pgBoss && postgresApp
      ? { kind: 'pg-boss' as const, connectionString: postgresApp.url, work: options.pgBoss.work }
      : { kind: 'in-process' as const };
  const services = await assembleServices(
    { db, dataSource, storage },
    { ...TEST_JOB_OPTIONS, ...options.jobs },
    runner,
  );
  return {
    services,
    db,
    appDatabaseUrl: postgresApp ? postgresApp.url : `file:${path.join(temp.dir, 'app.db')}`,
    dataAdminUrl: postgresData?.url ?? null,
    demoDataFile,
    exportDir: path.join(temp.dir, 'exports'),
    close: async () => {
      await services.jobs.close();
      await db.$disconnect();
      await dataSource.close();
      await postgresApp?.drop();
      await postgresData?.drop();
      temp.remove();
    },
  };
}

/** A demo data source database of its own (a SQLite file or a PostgreSQL database), seeded; `readerUrl` reaches it as the read-only role; `remove` deletes it. */
export async function seededDemoDatabase(
  dialect: Provider,
  events: number,
): Promise<{ url: string; readerUrl: string; remove: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const temp = tempDir();
    const url = `file:${temp.dir}/demo.db`;
    await seedDemoData(url, { events });
    return { url, readerUrl: url, remove: async () => temp.remove() };
  }
  const database = await createPostgresDatabase();
  await seedDemoData(database.url, { events });
  return { url: database.url, readerUrl: await readOnlyRoleUrl(database.url), remove: database.drop };
}
