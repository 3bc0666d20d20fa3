import { PREVIEW_ROW_LIMIT } from '@/lib/limits';
import { InvalidRequestError } from '../errors';
import type { DataSource, QueryPreview } from './data-source';
import { DataSourceUnavailableError, QueryExecutionError, QueryTimeoutError } from './data-source';
import { guardSql, type GuardedSql } from './guard';

const tablesBySource = new WeakMap<DataSource, Promise<string[]>>();

/** The data source's tables: the allow-list for user SQL. Read once per data source. */
export function allowedTables(dataSource: DataSource): Promise<string[]> {
  let tables = tablesBySource.get(dataSource);
  if (!tables) {
    tables = dataSource.listTables();
    tablesBySource.set(dataSource, tables);
    tables.catch(() => tablesBySource.delete(dataSource));
  }
  return tables;
}

const schemasBySource = new WeakMap<DataSource, Promise<Array<{ table: string; columns: string[] }>>>();

/** Each allowed table with its columns: what the model is told it may query. Read once per source. */
export function tableSchemas(dataSource: DataSource): Promise<Array<{ table: string; columns: string[] }>> {
  let schemas = schemasBySource.get(dataSource);
  if (!schemas) {
    schemas = allowedTables(dataSource).then((tables) =>
      Promise.all(tables.map(async (table) => ({ table, columns: (await dataSource.preview(`SELECT * FROM ${table} LIMIT 0`, 0)).columns.map((column) => column.name) }))),
    );
    schemasBySource.set(dataSource, schemas);
    schemas.catch(() => schemasBySource.delete(dataSource));
  }
  return schemas;
}

export async function checkSql(dataSource: DataSource, sql: string): Promise<GuardedSql> {
  return guardSql(sql, { dialect: dataSource.dialect, allowedTables: await allowedTables(dataSource) });
}

/** Guards and runs a query for the chat: first rows plus the total count. */
export async function runPreview(dataSource: DataSource, sql: string, limit = PREVIEW_ROW_LIMIT): Promise<{ guarded: GuardedSql; preview: QueryPreview }> {
  const guarded = await checkSql(dataSource, sql);
  try {
    return { guarded, preview: await dataSource.preview(guarded.sql, limit) };
  } catch (error) {
    throw asUserFacing(error);
  }
}

/** Database errors become sentences; anything unexpected stays an internal error. */
export function asUserFacing(error: unknown): unknown {
  if (error instanceof QueryTimeoutError || error instanceof DataSourceUnavailableError) return new InvalidRequestError(error.message);
  if (error instanceof QueryExecutionError) return new InvalidRequestError(`The database could not run that query: ${error.message.replace(/^SqliteError:\s*/, '')}`);
  return error;
}
