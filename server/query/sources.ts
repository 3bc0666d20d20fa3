import { getEnv, isPostgresUrl, sqlitePathFromUrl } from '../env';
import type { DataSource, DataSourceOptions } from './data-source';
import type { SqlDialect } from './guard';
import { createSqliteDataSource } from './sqlite-source';

/** A data source whose module loads on first use (pg and its pool cost memory the SQLite default does not need). */
function loadOnFirstUse(dialect: SqlDialect, load: () => Promise<DataSource>): DataSource {
  let loading: Promise<DataSource> | null = null;
  const source = () => (loading ??= load());
  return {
    dialect,
    listTables: async () => (await source()).listTables(),
    describeTables: async () => (await source()).describeTables(),
    check: async (sql) => (await source()).check(sql),
    verify: async () => (await source()).verify(),
    preview: async (sql, limit) => (await source()).preview(sql, limit),
    stream: async (sql, options) => (await source()).stream(sql, options),
    streamEncoded: async (sql, file) => {
      const loaded = await source();
      return loaded.streamEncoded ? loaded.streamEncoded(sql, file) : null;
    },
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}

export function openDataSource(url: string, timeoutMs: number, options: Partial<DataSourceOptions> = {}): DataSource {
  if (!isPostgresUrl(url)) return createSqliteDataSource(sqlitePathFromUrl(url), timeoutMs, options);
  return loadOnFirstUse('postgresql', async () =>
    (await import('./postgres-source')).createPostgresDataSource(url, timeoutMs, options),
  );
}

const holder = globalThis as unknown as { askportDataSource?: DataSource };

/** The process's data source, from DATA_DATABASE_URL. */
export function getDataSource(): DataSource {
  const env = getEnv();
  holder.askportDataSource ??= openDataSource(env.dataDatabaseUrl, env.QUERY_TIMEOUT_MS, {
    maxCellBytes: env.EXPORT_MAX_CELL_BYTES,
    allowPrivileged: env.DATA_SOURCE_ALLOW_PRIVILEGED,
  });
  return holder.askportDataSource;
}
