import { getAppDb, type AppDb } from './db/client';
import { getEnv, isPostgresUrl } from './env';
import { ensureDemoUser } from './auth/service';
import type { DataSource } from './query/data-source';
import { getDataSource } from './query/sources';
import { ensureDemoData } from './seed/seed';

/** What services work with: the app database and the data source users query. */
export interface AppServices {
  db: AppDb;
  dataSource: DataSource;
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
    return { db, dataSource: getDataSource() };
  })().catch((error: unknown) => {
    holder.askportServices = undefined;
    throw error;
  });
  return holder.askportServices;
}
