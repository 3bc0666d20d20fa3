import { PREVIEW_ROW_LIMIT } from '@/lib/limits';
import { InvalidRequestError } from '../errors';
import type { DataSource, QueryPreview } from './data-source';
import { DataSourceUnavailableError, QueryExecutionError, QueryTimeoutError } from './data-source';
import { trimStatement, type GuardedSql } from './guard';

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

/** The guard's decision on a statement, made by the data source as its database reads it. */
export async function checkSql(dataSource: DataSource, sql: string): Promise<GuardedSql> {
  try {
    return await dataSource.check(sql);
  } catch (error) {
    throw asUserFacing(error);
  }
}

/** Guards and runs a query for the chat: first rows plus the total count, in one pass through the guard. */
export async function runPreview(
  dataSource: DataSource,
  sql: string,
  limit = PREVIEW_ROW_LIMIT,
): Promise<{ guarded: GuardedSql; preview: QueryPreview }> {
  const statement = trimStatement(sql);
  try {
    const preview = await dataSource.preview(statement, limit);
    return { guarded: { sql: statement, tables: preview.tables }, preview };
  } catch (error) {
    throw asUserFacing(error);
  }
}

/** Database errors become sentences; anything unexpected stays an internal error. */
export function asUserFacing(error: unknown): unknown {
  if (error instanceof QueryTimeoutError || error instanceof DataSourceUnavailableError)
    return new InvalidRequestError(error.message);
  if (error instanceof QueryExecutionError)
    return new InvalidRequestError(
      `The database could not run that query: ${error.message.replace(/^SqliteError:\s*/, '')}`,
    );
  return error;
}
