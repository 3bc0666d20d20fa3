import type BetterSqlite3 from 'better-sqlite3';
import { NOT_A_READ, ONE_STATEMENT, notARead } from './guard';

/** What the guard decides with: the connection and the statement as it will run. */
export interface SqliteGuard {
  /** Tables and views users may query: every one but SQLite's own. */
  allowedTables(db: BetterSqlite3.Database): string[];
  /** SQLite's prepared statement, once its program is known to read only allowed tables with allowed functions. */
  prepare(db: BetterSqlite3.Database, sql: string): { statement: BetterSqlite3.Statement; tables: string[] };
}

/**
 * The SQLite guard decides on the program SQLite itself compiled for the statement: it must be a
 * read that returns rows (`reader`, `readonly`), its first word SELECT, WITH or VALUES, and its
 * program (EXPLAIN) may open only the b-trees of the allowed tables and their indexes in the main
 * database (page 1 is sqlite_schema), no virtual table (VOpen: the pragma_* table functions) and call
 * only allow-listed functions (Function, PureFunc and the Agg* opcodes name them). The query processes
 * (sqlite-query-process.ts) prepare every statement through it, so it decides on the very program they run.
 */
export function sqliteGuardRuntime(messages: {
  notARead: string;
  notAReadPrefix: string;
  oneStatement: string;
}): SqliteGuard {
  // biome-ignore format: a word list reads best packed
  const ALLOWED_FUNCTIONS = new Set([
    'abs', 'avg', 'count', 'group_concat', 'string_agg', 'max', 'min', 'sum', 'total', 'char', 'glob', 'hex', 'unhex', 'instr', 'length',
    'octet_length', 'like', 'lower', 'ltrim', 'rtrim', 'trim', 'nullif', 'printf', 'format', 'quote', 'random', 'randomblob', 'zeroblob',
    'replace', 'round', 'sign', 'substr', 'substring', 'typeof', 'unicode', 'upper', 'concat', 'concat_ws', 'coalesce', 'ifnull', 'iif',
    'if', 'likely', 'unlikely', 'likelihood', 'date', 'time', 'datetime', 'julianday', 'unixepoch', 'strftime', 'timediff',
    'acos', 'acosh', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'ceil', 'ceiling', 'cos', 'cosh', 'degrees', 'exp', 'floor', 'ln', 'log',
    'log2', 'log10', 'mod', 'pi', 'pow', 'power', 'radians', 'sin', 'sinh', 'sqrt', 'tan', 'tanh', 'trunc',
    'json', 'jsonb', 'json_array', 'jsonb_array', 'json_array_length', 'json_extract', 'jsonb_extract', '->', '->>', 'json_insert',
    'jsonb_insert', 'json_object', 'jsonb_object', 'json_patch', 'jsonb_patch', 'json_pretty', 'json_quote', 'json_remove', 'jsonb_remove',
    'json_replace', 'jsonb_replace', 'json_set', 'jsonb_set', 'json_type', 'json_valid', 'json_error_position', 'json_group_array',
    'jsonb_group_array', 'json_group_object', 'jsonb_group_object',
    'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  ]);
  const FUNCTION_OPCODES = new Set([
    'Function',
    'PureFunc',
    'AggStep',
    'AggStep1',
    'AggFinal',
    'AggValue',
    'AggInverse',
  ]);
  // Opcodes no plain read has; the readonly flag already refuses most of what they do.
  // biome-ignore format: a word list reads best packed
  const NEVER = new Set(['OpenWrite', 'ParseSchema', 'SqlExec', 'Vacuum', 'IncrVacuum', 'JournalMode', 'Destroy', 'Clear', 'CreateBtree', 'DropTable', 'DropIndex', 'DropTrigger', 'SetCookie', 'LoadAnalysis', 'IntegrityCk', 'Checkpoint', 'Expire', 'Pagecount', 'MaxPgcnt']);
  /** OpenRead's P5 flag for "P2 is a register, not a root page". */
  const P2_IS_REGISTER = 0x10;
  const MAIN_DATABASE = 0;
  const USER_TABLES = 'SELECT type, name, tbl_name AS tableName, rootpage FROM sqlite_schema';

  function refuse(message: string): never {
    throw Object.assign(new Error(message), { refused: true as const });
  }

  type SchemaRow = { type: string; name: string; tableName: string; rootpage: number };
  const isUserTable = (name: string) => !name.toLowerCase().startsWith('sqlite_');

  function allowedTables(db: BetterSqlite3.Database): string[] {
    return (db.prepare(USER_TABLES).all() as SchemaRow[])
      .filter((row) => (row.type === 'table' || row.type === 'view') && isUserTable(row.name))
      .map((row) => row.name)
      .sort();
  }

  function unknownTable(name: string, db: BetterSqlite3.Database): never {
    return refuse(`The table "${name}" is not available. You can query: ${allowedTables(db).join(', ')}.`);
  }

  /** The first word after white space and comments, as SQLite's tokenizer skips them. */
  function firstWord(sql: string): string {
    let at = 0;
    for (;;) {
      while (at < sql.length && ' \t\n\f\r'.includes(sql[at]!)) at++;
      if (sql.startsWith('--', at)) {
        const end = sql.indexOf('\n', at);
        at = end === -1 ? sql.length : end + 1;
      } else if (sql.startsWith('/*', at)) {
        const end = sql.indexOf('*/', at + 2);
        at = end === -1 ? sql.length : end + 2;
      } else break;
    }
    return /^[A-Za-z]+/.exec(sql.slice(at))?.[0]?.toUpperCase() ?? '';
  }

  /**
   * SQLite names the token it stopped at but not where it is: the end of the input for "incomplete
   * input", else the token, when it stands once in the statement outside strings and comments.
   */
  function syntaxError(sql: string, message: string): string {
    let offset: number | null = null;
    if (message === 'incomplete input') offset = sql.trimEnd().length;
    const token = /^near "(.+)": syntax error$/.exec(message)?.[1];
    if (token !== undefined) {
      const found: number[] = [];
      // Comments, strings and quoted names are passed over whole; the token counts where it stands alone.
      const skip = /--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?/y;
      const word = /\w/;
      for (let at = 0; at < sql.length; ) {
        skip.lastIndex = at;
        const skipped = skip.exec(sql);
        if (skipped) {
          at += skipped[0].length;
          continue;
        }
        const alone =
          !(word.test(token[0]!) && word.test(sql[at - 1] ?? '')) &&
          !(word.test(token.at(-1)!) && word.test(sql[at + token.length] ?? ''));
        if (sql.startsWith(token, at) && alone) found.push(at);
        at += 1;
      }
      if (found.length === 1) offset = found[0]!;
    }
    if (offset === null) return `That SQL has a syntax error: ${message}.`;
    const before = sql.slice(0, offset);
    const line = before.split('\n').length;
    return `That SQL has a syntax error near line ${line}, column ${offset - before.lastIndexOf('\n')}: ${message}.`;
  }

  function prepareStatement(db: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement {
    try {
      return db.prepare(sql);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/more than one statement/.test(message)) refuse(messages.oneStatement);
      const missing = /^no such table: (.+)$/.exec(message);
      if (missing) unknownTable(missing[1]!, db);
      if (/syntax error|incomplete input|unrecognized token/.test(message)) refuse(syntaxError(sql, message));
      const unknownFunction = /^no such function: (.+)$/.exec(message);
      if (unknownFunction) refuse(`The function ${unknownFunction[1]}() is not available in queries.`);
      throw error;
    }
  }

  function prepare(db: BetterSqlite3.Database, sql: string) {
    const word = firstWord(sql);
    if (word !== 'SELECT' && word !== 'WITH' && word !== 'VALUES')
      refuse(word ? `${messages.notAReadPrefix}; this is a ${word} statement.` : 'The query is empty.');
    const statement = prepareStatement(db, sql);
    if (!statement.reader || !statement.readonly) refuse(messages.notARead);

    const schema = db.prepare(USER_TABLES).all() as SchemaRow[];
    const tableOfPage = new Map<number, string>([[1, 'sqlite_schema']]);
    const allowedPages = new Set<number>();
    for (const row of schema) {
      if (!row.rootpage) continue;
      tableOfPage.set(row.rootpage, row.tableName);
      if (isUserTable(row.tableName)) allowedPages.add(row.rootpage);
    }
    const tables = new Set<string>();
    let program: Array<{ opcode: string; p2: number; p3: number; p4: unknown; p5: number }>;
    try {
      program = db.prepare(`EXPLAIN ${sql}`).all() as typeof program;
    } catch (error) {
      // EXPLAIN of a statement with ? or :name wants their values: there are none to give.
      if (/parameter/i.test(error instanceof Error ? error.message : ''))
        refuse('Query parameters (?) are not supported; write the value into the query.');
      throw error;
    }
    for (const op of program) {
      if (op.opcode === 'OpenRead' || op.opcode === 'ReopenIdx') {
        if (op.p3 !== MAIN_DATABASE || (op.p5 & P2_IS_REGISTER) !== 0)
          unknownTable(op.p3 === 1 ? 'temp' : 'attached database', db);
        if (!allowedPages.has(op.p2)) unknownTable(tableOfPage.get(op.p2) ?? 'sqlite_schema', db);
        tables.add(tableOfPage.get(op.p2)!);
      } else if (FUNCTION_OPCODES.has(op.opcode)) {
        const name = String(op.p4).replace(/\(-?\d+\)$/, '');
        if (!ALLOWED_FUNCTIONS.has(name.toLowerCase()))
          refuse(
            `The function ${name}() is not allowed in queries. Ordinary string, number, date, JSON, aggregate and window functions are.`,
          );
      } else if (op.opcode.startsWith('V') && op.opcode !== 'Variable') {
        refuse(
          'Table functions and virtual tables (such as pragma_table_info) are not available in queries; select from a table instead.',
        );
      } else if (op.opcode === 'Variable') {
        refuse('Query parameters (?) are not supported; write the value into the query.');
      } else if ((op.opcode === 'Transaction' && op.p2 !== 0) || NEVER.has(op.opcode)) {
        refuse(messages.notARead);
      }
    }
    return { statement, tables: [...tables] };
  }

  return { allowedTables, prepare };
}

export const SQLITE_GUARD_MESSAGES = {
  notARead: NOT_A_READ,
  notAReadPrefix: notARead('').replace(/; this is \.$/, ''),
  oneStatement: ONE_STATEMENT,
};
