import { getAppDb, type AppDb } from './db/client';
import { getEnv, isPostgresUrl } from './env';
import { ensureDemoUser } from './auth/service';
import { limitHeapGrowth } from './heap';
import { RunningExports } from './export/running';
import { createLocalDiskStorage } from './export/storage';
import type { AppServices } from './app-services';
import { createInProcessExportJobs, type ExportJobOptions } from './jobs/export-jobs';
import { schemaCatalog } from './intent/catalog';
import { getDataSource } from './query/sources';
import { ensureDemoData } from './seed/seed';

export function jobOptionsFromEnv(): ExportJobOptions {
  const env = getEnv();
  return {
    maxRunningPerUser: env.EXPORT_MAX_RUNNING_PER_USER,
    maxRunning: 4,
    fileTtlMs: env.EXPORT_FILE_TTL_MINUTES * 60_000,
    progressIntervalMs: 1_000,
    cleanupIntervalMs: 60_000,
  };
}

/** How export jobs run: in this process (embedded default) or through pg-boss on PostgreSQL. */
export type JobRunner = { kind: 'in-process' } | { kind: 'pg-boss'; connectionString: string; work: boolean };

/**
 * Wires the services together; the job runner needs the others, so it is added last. pg-boss loads
 * only when it is used (it and its driver cost the embedded default memory for nothing).
 */
export async function assembleServices(
  parts: Omit<AppServices, 'jobs' | 'running'>,
  jobOptions: ExportJobOptions,
  runner: JobRunner = { kind: 'in-process' },
): Promise<AppServices> {
  // Every process that runs exports (web or worker) assembles its services here first.
  limitHeapGrowth();
  const services = { ...parts, running: new RunningExports() } as AppServices;
  services.jobs =
    runner.kind === 'pg-boss'
      ? (await import('./jobs/pg-boss-jobs')).createPgBossExportJobs(services, jobOptions, runner)
      : createInProcessExportJobs(services, jobOptions);
  return services;
}

/** The runner the configuration asks for: pg-boss when the app database is PostgreSQL. */
export function jobRunnerFromEnv(work = getEnv().EXPORT_WORK_IN_WEB): JobRunner {
  const env = getEnv();
  return isPostgresUrl(env.databaseUrl)
    ? { kind: 'pg-boss', connectionString: env.databaseUrl, work }
    : { kind: 'in-process' };
}

/** True on the embedded default (SQLite app database): a demo account and demo data exist. */
export function isEmbeddedDefault(): boolean {
  return !isPostgresUrl(getEnv().databaseUrl);
}

/** Prepares a fresh install: migrations, demo data on first start, the demo account. Idempotent. */
export async function prepareInstall(db: AppDb): Promise<void> {
  const env = getEnv();
  if (!isPostgresUrl(env.dataDatabaseUrl)) await ensureDemoData(env.dataDatabaseUrl, { events: env.DEMO_EVENTS });
  if (isEmbeddedDefault()) await ensureDemoUser(db);
}

const holder = globalThis as unknown as { askportServices?: Promise<AppServices> };

export function getAppServices(): Promise<AppServices> {
  holder.askportServices ??= (async () => {
    const db = await getAppDb();
    await prepareInstall(db);
    const dataSource = getDataSource();
    // Read ahead, so the first described request does not wait for it. Ignored: a failure is read
    // again (and logged) when a message needs the catalog.
    void schemaCatalog(dataSource).catch(() => undefined);
    return assembleServices(
      { db, dataSource, storage: createLocalDiskStorage(getEnv().exportStorageDir) },
      jobOptionsFromEnv(),
      jobRunnerFromEnv(),
    );
  })().catch((error: unknown) => {
    holder.askportServices = undefined;
    throw error;
  });
  return holder.askportServices;
}
