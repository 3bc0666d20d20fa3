import postgresqlSqlParser from 'node-sql-parser/build/postgresql';
import sqliteSqlParser from 'node-sql-parser/build/sqlite';
import { InvalidRequestError } from '../errors';

// Every statement a user (or, later, a model) writes passes this guard before it reaches the data
// source: one statement, SELECT or WITH only, tables from the allow-list only, no functions that
// reach files, settings or the server. The data source connection is read-only as well; this guard
// is the layer that explains the refusal in a sentence.
// One grammar per dialect: the full package carries every database's grammar (about 9 MB of server
// memory against 4 MB for these two).
const parser = { sqlite: new sqliteSqlParser.Parser(), postgresql: new postgresqlSqlParser.Parser() };

export type SqlDialect = 'sqlite' | 'postgresql';

export const MAX_SQL_LENGTH = 20_000;

const FORBIDDEN_FUNCTION = /^(pg_|lo_|dblink|load_extension|readfile|writefile|edit$|fts3_tokenizer|fts5|zipfile|sqlite_|set_config|current_setting|query_to_xml|table_to_xml|cursor_to_xml|database_to_xml|schema_to_xml|xpath|txid_|inet_|has_\w*privilege|nextval|setval|currval|version$|current_user|session_user|current_database|current_schema)/;
const DEFAULT_SCHEMAS: Record<SqlDialect, string> = { sqlite: 'main', postgresql: 'public' };

export interface GuardedSql {
  /** The statement as the user wrote it, without a trailing semicolon. */
  sql: string;
  /** Allow-listed tables the statement reads, lower-case. */
  tables: string[];
}

export interface GuardOptions {
  dialect: SqlDialect;
  allowedTables: readonly string[];
}

type AstNode = Record<string, unknown>;

export function guardSql(input: string, options: GuardOptions): GuardedSql {
  const sql = input.trim().replace(/;\s*$/, '');
  if (sql.length === 0) throw new InvalidRequestError('The query is empty.');
  if (sql.length > MAX_SQL_LENGTH) throw new InvalidRequestError(`The query is too long (${sql.length.toLocaleString('en-US')} characters; the limit is ${MAX_SQL_LENGTH.toLocaleString('en-US')}).`);

  let ast: AstNode | AstNode[];
  try {
    ast = parser[options.dialect].astify(sql, { database: options.dialect }) as unknown as AstNode | AstNode[];
  } catch (error) {
    const location = (error as { location?: { start?: { line: number; column: number } } }).location?.start;
    const where = location ? ` near line ${location.line}, column ${location.column}` : '';
    throw new InvalidRequestError(`That SQL has a syntax error${where}. Only SELECT and WITH queries are supported.`);
  }
  const statements = (Array.isArray(ast) ? ast : [ast]).filter((statement) => statement && typeof statement === 'object');
  if (statements.length === 0) throw new InvalidRequestError('The query is empty.');
  if (statements.length !== 1) throw new InvalidRequestError('Send one statement at a time.');
  const statement = statements[0] as AstNode;
  if (statement.type !== 'select') {
    throw new InvalidRequestError(`Only read-only SELECT or WITH queries can run here; this is a ${String(statement.type ?? 'different').toUpperCase()} statement.`);
  }

  const cteNames = new Set<string>();
  const tables = new Set<string>();
  const allowed = new Set(options.allowedTables.map((table) => table.toLowerCase()));
  walk(statement, (node) => {
    if (Array.isArray(node.with)) {
      for (const cte of node.with as AstNode[]) {
        const name = cteName(cte);
        if (name) cteNames.add(name.toLowerCase());
      }
    }
    const into = node.into as AstNode | undefined;
    if (into && into.expr) throw new InvalidRequestError('SELECT … INTO writes a table; only read-only queries can run here.');
    if (node.type === 'function') checkFunction(node, options.dialect);
  });
  walk(statement, (node) => {
    if (!Array.isArray(node.from)) return;
    for (const item of node.from as AstNode[]) {
      const expr = item.expr as AstNode | undefined;
      if (typeof item.table === 'string') {
        const table = item.table.toLowerCase();
        const schema = typeof item.db === 'string' ? item.db.toLowerCase() : null;
        if (schema !== null && schema !== DEFAULT_SCHEMAS[options.dialect]) throw unknownTable(`${item.db}.${item.table}`, allowed);
        if (schema === null && cteNames.has(table)) continue;
        if (!allowed.has(table)) throw unknownTable(item.table, allowed);
        tables.add(table);
      } else if (expr && expr.type === 'function') {
        throw new InvalidRequestError('Table functions are not available in queries; select from a table instead.');
      }
    }
  });
  // The parser lists every table the statement names (joins, subqueries, set operations); this catches
  // any the walk above did not reach.
  for (const entry of parser[options.dialect].tableList(sql, { database: options.dialect })) {
    const [, schema, table] = entry.split('::');
    if (!table) continue;
    const name = table.toLowerCase();
    if ((schema === 'null' || schema === undefined) && cteNames.has(name)) continue;
    if (schema !== 'null' && schema !== undefined && schema.toLowerCase() !== DEFAULT_SCHEMAS[options.dialect]) throw unknownTable(`${schema}.${table}`, allowed);
    if (!allowed.has(name)) throw unknownTable(table, allowed);
    tables.add(name);
  }
  return { sql, tables: [...tables] };
}

function unknownTable(name: string, allowed: Set<string>): InvalidRequestError {
  return new InvalidRequestError(`The table "${name}" is not available. You can query: ${[...allowed].sort().join(', ')}.`);
}

function cteName(cte: AstNode): string | undefined {
  const name = cte.name as unknown;
  if (typeof name === 'string') return name;
  if (name && typeof name === 'object' && typeof (name as AstNode).value === 'string') return (name as AstNode).value as string;
  return undefined;
}

function checkFunction(node: AstNode, dialect: SqlDialect): void {
  const nameNode = node.name as AstNode | undefined;
  const parts = Array.isArray(nameNode?.name) ? (nameNode.name as AstNode[]).map((part) => String(part.value ?? '')) : [String(nameNode ?? '')];
  const name = parts.join('.').toLowerCase();
  const schemaNode = nameNode?.schema as AstNode | undefined;
  const schema = schemaNode ? String(schemaNode.value ?? '').toLowerCase() : null;
  if ((schema !== null && schema !== DEFAULT_SCHEMAS[dialect]) || FORBIDDEN_FUNCTION.test(name)) {
    throw new InvalidRequestError(`The function ${name}() is not allowed in queries.`);
  }
}

function walk(node: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  visit(node as AstNode);
  for (const [key, child] of Object.entries(node)) {
    if (key !== 'loc') walk(child, visit);
  }
}
