import { InvalidRequestError } from '../errors';

// What every dialect's guard shares. The decision itself is made on the statement as the target
// database reads it: PostgreSQL's own parser (postgres-guard.ts) and SQLite's own prepared program
// (sqlite-guard.ts). No hand-written grammar decides: an earlier one read `'a\'` as an escaped quote
// where both databases read the end of a string, and let any sub-select through behind it.

export type SqlDialect = 'sqlite' | 'postgresql';

export const MAX_SQL_LENGTH = 20_000;

export interface GuardedSql {
  /** The statement as the user wrote it, without a trailing semicolon. */
  sql: string;
  /** Allow-listed tables the statement reads. */
  tables: string[];
}

/** A statement the guard will not run, with the sentence that says why: HTTP 400. */
export class SqlRefusedError extends InvalidRequestError {
  static readonly brand: string = 'SqlRefusedError';
}

/** The statement without surrounding space or trailing semicolons; refuses empty and over-long input. */
export function trimStatement(input: string): string {
  const sql = input.trim().replace(/(;\s*)+$/, '');
  if (sql.length === 0) throw new SqlRefusedError('The query is empty.');
  if (sql.length > MAX_SQL_LENGTH)
    throw new SqlRefusedError(
      `The query is too long (${sql.length.toLocaleString('en-US')} characters; the limit is ${MAX_SQL_LENGTH.toLocaleString('en-US')}).`,
    );
  return sql;
}

export function unknownTableMessage(name: string, allowed: Iterable<string>): string {
  return `The table "${name}" is not available. You can query: ${[...allowed].sort().join(', ')}.`;
}

export const NOT_A_READ = 'Only read-only SELECT or WITH queries can run here.';
/** The refusal of a statement of another kind, named: "…; this is a DELETE statement." */
export const notARead = (statement: string) => `${NOT_A_READ.slice(0, -1)}; this is ${statement}.`;
export const ONE_STATEMENT = 'Send one statement at a time.';

/** Orders the tables a statement reads by where the SQL first names them (for titles like "customers, orders"). */
export function inTextOrder(tables: Iterable<string>, sql: string): string[] {
  const text = sql.toLowerCase();
  const position = (table: string) => {
    const found = text.search(
      new RegExp(`(^|[^a-z0-9_])${table.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9_])`),
    );
    return found === -1 ? Number.MAX_SAFE_INTEGER : found;
  };
  return [...new Set(tables)].sort((a, b) => position(a) - position(b) || a.localeCompare(b));
}
