import { PREVIEW_ROW_LIMIT } from '@/lib/limits';
import { InvalidRequestError } from '../errors';
import type { DataSource, QueryPreview } from './data-source';
import { QueryExecutionError, QueryTimeoutError } from './data-source';
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

export async function checkSql(dataSource: DataSource, sql: string): Promise<GuardedSql> {
  return guardSql(sql, { dialect: dataSource.dialect, allowedTables: await allowedTables(dataSource) });
}

/** Guards and runs a query for the chat: first rows plus the total count. */
export async function runPreview(dataSource: DataSource, sql: string): Promise<{ guarded: GuardedSql; preview: QueryPreview }> {
  const guarded = await checkSql(dataSource, sql);
  try {
    return { guarded, preview: await dataSource.preview(guarded.sql, PREVIEW_ROW_LIMIT) };
  } catch (error) {
    throw asUserFacing(error);
  }
}

/** Database errors become sentences; anything unexpected stays an internal error. */
export function asUserFacing(error: unknown): unknown {
  if (error instanceof QueryTimeoutError) return new InvalidRequestError(error.message);
  if (error instanceof QueryExecutionError) return new InvalidRequestError(`The database could not run that query: ${error.message.replace(/^SqliteError:\s*/, '')}`);
  return error;
}
