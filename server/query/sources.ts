import { getEnv, isPostgresUrl, sqlitePathFromUrl } from '../env';
import type { DataSource } from './data-source';
import { createPostgresDataSource } from './postgres-source';
import { createSqliteDataSource } from './sqlite-source';

export function openDataSource(url: string, timeoutMs: number): DataSource {
  return isPostgresUrl(url) ? createPostgresDataSource(url, timeoutMs) : createSqliteDataSource(sqlitePathFromUrl(url), timeoutMs);
}

const holder = globalThis as unknown as { askportDataSource?: DataSource };

/** The process's data source, from DATA_DATABASE_URL. */
export function getDataSource(): DataSource {
  const env = getEnv();
  holder.askportDataSource ??= openDataSource(env.dataDatabaseUrl, env.QUERY_TIMEOUT_MS);
  return holder.askportDataSource;
}
