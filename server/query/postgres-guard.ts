import { hasSqlDetails, loadModule, parseSync } from 'libpg-query';
import {
  NOT_A_READ,
  ONE_STATEMENT,
  SqlRefusedError,
  inTextOrder,
  notARead,
  trimStatement,
  unknownTableMessage,
  type GuardedSql,
} from './guard';

// User SQL for PostgreSQL is read by PostgreSQL's own parser (libpg_query, compiled to WASM) and
// allowed only when every part of the parse tree is on an allow-list: the node kinds of a plain read,
// the allowed tables, ordinary scalar, aggregate and window functions, plain operators and types.
// Anything else — catalogs, functions that reach files, settings, other sessions or run SQL given as
// text (ts_stat, query_to_xml), casts to reg* types that look up the catalog — is refused with a
// sentence naming it. The session also runs with standard_conforming_strings on, as this parser
// assumes (postgres-source.ts), so both read every string literal the same way.

/** Node kinds a read-only SELECT is made of. Anything else in the tree is refused. */
// biome-ignore format: a word list reads best packed
const ALLOWED_NODES = new Set([
  'SelectStmt', 'RangeVar', 'RangeSubselect', 'RangeFunction', 'JoinExpr', 'ResTarget', 'ColumnRef', 'A_Star', 'A_Const',
  'A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'FuncCall', 'TypeCast', 'CaseExpr', 'CaseWhen', 'CoalesceExpr',
  'MinMaxExpr', 'SubLink', 'A_ArrayExpr', 'A_Indirection', 'A_Indices', 'RowExpr', 'SortBy', 'WindowDef',
  'CommonTableExpr', 'CTESearchClause', 'CTECycleClause', 'CollateClause', 'GroupingSet', 'GroupingFunc', 'NamedArgExpr',
  'SQLValueFunction', 'ColumnDef', 'TypeName', 'Alias', 'String', 'Integer', 'Float', 'Boolean', 'BitString', 'List',
]);

/** Ordinary functions: string, math, date/time, conditional, JSON, array, aggregate and window. */
// biome-ignore format: a word list reads best packed
const ALLOWED_FUNCTIONS = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'json_agg', 'jsonb_agg',
  'json_object_agg', 'jsonb_object_agg', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'percentile_cont', 'percentile_disc', 'mode', 'corr', 'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'regr_r2', 'regr_count',
  'bit_and', 'bit_or', 'any_value',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // math
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'sqrt', 'cbrt', 'power', 'pow', 'exp', 'ln', 'log', 'log10', 'mod',
  'div', 'pi', 'degrees', 'radians', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'random', 'width_bucket', 'gcd', 'lcm',
  'scale', 'factorial',
  // strings
  'lower', 'upper', 'initcap', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'substr', 'substring',
  'position', 'strpos', 'btrim', 'ltrim', 'rtrim', 'lpad', 'rpad', 'replace', 'concat', 'concat_ws', 'left', 'right', 'reverse',
  'repeat', 'split_part', 'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_split_to_array', 'regexp_count', 'regexp_like',
  'regexp_substr', 'regexp_instr', 'starts_with', 'translate', 'format', 'to_char', 'to_number', 'md5', 'ascii', 'chr', 'overlay',
  'string_to_array', 'array_to_string', 'quote_literal', 'quote_nullable', 'encode', 'decode', 'similar_to_escape', 'normalize',
  'is_normalized', 'unistr', 'like_escape',
  // date and time
  'now', 'date_trunc', 'date_part', 'extract', 'age', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz',
  'make_interval', 'date_bin', 'to_date', 'to_timestamp', 'timezone', 'clock_timestamp', 'statement_timestamp',
  'transaction_timestamp', 'justify_days', 'justify_hours', 'justify_interval', 'isfinite', 'overlaps', 'generate_series', 'date_add', 'date_subtract',
  // JSON
  'to_json', 'to_jsonb', 'row_to_json', 'array_to_json', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array',
  'json_object', 'jsonb_object', 'json_array_length', 'jsonb_array_length', 'json_extract_path', 'json_extract_path_text',
  'jsonb_extract_path', 'jsonb_extract_path_text', 'json_typeof', 'jsonb_typeof', 'json_each', 'jsonb_each', 'json_each_text',
  'jsonb_each_text', 'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text',
  'json_object_keys', 'jsonb_object_keys', 'jsonb_pretty', 'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_set', 'jsonb_insert',
  'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset',
  // arrays
  'array_length', 'array_lower', 'array_upper', 'array_ndims', 'cardinality', 'unnest', 'array_position', 'array_positions',
  'array_remove', 'array_replace', 'array_append', 'array_prepend', 'array_cat',
  // conditional and misc
  'num_nulls', 'num_nonnulls', 'gen_random_uuid',
]);

/** Operators of the built-in types (comparison, arithmetic, text, pattern, JSON, array), and the words the parser uses for BETWEEN. */
// biome-ignore format: a word list reads best packed
const ALLOWED_OPERATORS = new Set([
  '=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '^', '|/', '||/', '@', '&', '|', '#', '~', '<<', '>>', '||',
  '~~', '!~~', '~~*', '!~~*', '!~', '~*', '!~*', '->', '->>', '#>', '#>>', '#-', '@>', '<@', '?', '?|', '?&', '&&',
  'BETWEEN', 'NOT BETWEEN', 'BETWEEN SYMMETRIC', 'NOT BETWEEN SYMMETRIC',
]);

/** Types a query may name in a cast or a column definition: none whose input function reads the catalog (reg*) or files. */
// biome-ignore format: a word list reads best packed
const ALLOWED_TYPES = new Set([
  'int2', 'int4', 'int8', 'smallint', 'integer', 'bigint', 'int', 'numeric', 'decimal', 'float4', 'float8', 'real', 'text', 'varchar',
  'bpchar', 'char', 'bool', 'boolean', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'json', 'jsonb', 'uuid',
  'bytea', 'money', 'inet', 'cidr',
]);

/** Only date and time: current_user and the like tell about the server, not the data. */
// biome-ignore format: a word list reads best packed
const ALLOWED_VALUE_FUNCTIONS = new Set([
  'SVFOP_CURRENT_DATE', 'SVFOP_CURRENT_TIME', 'SVFOP_CURRENT_TIME_N', 'SVFOP_CURRENT_TIMESTAMP', 'SVFOP_CURRENT_TIMESTAMP_N',
  'SVFOP_LOCALTIME', 'SVFOP_LOCALTIME_N', 'SVFOP_LOCALTIMESTAMP', 'SVFOP_LOCALTIMESTAMP_N',
]);

/** How a refused node kind is named in the sentence. */
const NODE_WORDS: Record<string, string> = {
  InsertStmt: 'an INSERT',
  UpdateStmt: 'an UPDATE',
  DeleteStmt: 'a DELETE',
  MergeStmt: 'a MERGE',
  LockingClause: 'FOR UPDATE/FOR SHARE',
  XmlExpr: 'an XML expression',
  XmlSerialize: 'an XML expression',
  RangeTableSample: 'TABLESAMPLE',
  ParamRef: 'a parameter ($1)',
  CurrentOfExpr: 'WHERE CURRENT OF',
  RangeTableFunc: 'XMLTABLE',
  JsonTable: 'JSON_TABLE',
};

const DEFAULT_SCHEMA = 'public';
const CATALOG_SCHEMA = 'pg_catalog';

type Tree = Record<string, unknown>;

let parserLoaded: Promise<void> | null = null;

/** Loads the parser's WASM once per process; it is held from then on (about 2 MB). */
function loadPostgresParser(): Promise<void> {
  parserLoaded ??= loadModule().catch((error: unknown) => {
    parserLoaded = null;
    throw error;
  });
  return parserLoaded;
}

/** Guards a statement for a PostgreSQL data source whose allowed tables are `allowedTables` (schema public). */
export async function guardPostgresSql(input: string, allowedTables: readonly string[]): Promise<GuardedSql> {
  const sql = trimStatement(input);
  await loadPostgresParser();
  let tree: { stmts?: Array<{ stmt?: Tree }> };
  try {
    tree = parseSync(sql) as unknown as typeof tree;
  } catch (error) {
    throw syntaxError(sql, error);
  }
  const statements = tree.stmts ?? [];
  if (statements.length === 0) throw new SqlRefusedError('The query is empty.');
  if (statements.length > 1) throw new SqlRefusedError(ONE_STATEMENT);
  const [kind, body] = Object.entries(statements[0]?.stmt ?? {})[0] ?? ['unknown', {}];
  if (kind !== 'SelectStmt') throw new SqlRefusedError(notARead(statementWords(kind)));
  const reading = new PostgresReading(new Set(allowedTables));
  try {
    reading.select(body as Tree, new Set());
  } catch (error) {
    // A tree deep enough to exhaust the stack is not a query anyone writes by hand.
    if (error instanceof RangeError) throw new SqlRefusedError('That query is nested too deeply.');
    throw error;
  }
  return { sql, tables: inTextOrder(reading.tables, sql) };
}

function statementWords(kind: string): string {
  if (NODE_WORDS[kind]) return `${NODE_WORDS[kind]} statement`;
  const word = kind
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
  return `a ${word} statement`;
}

function syntaxError(sql: string, error: unknown): SqlRefusedError {
  const details = hasSqlDetails(error) ? error.sqlDetails : undefined;
  const message = (details?.message ?? (error instanceof Error ? error.message : 'syntax error')).replace(/\.$/, '');
  const offset = details?.cursorPosition;
  if (offset === undefined || offset < 0) return new SqlRefusedError(`That SQL has a syntax error: ${message}.`);
  const before = sql.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return new SqlRefusedError(`That SQL has a syntax error near line ${line}, column ${column}: ${message}.`);
}

function names(list: unknown): string[] {
  return Array.isArray(list) ? list.map((item) => String(((item as Tree).String as Tree | undefined)?.sval ?? '')) : [];
}

/** The name, if it is unqualified or qualified with one of `schemas`; null otherwise. */
function unqualified(parts: string[], ...schemas: string[]): string | null {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2 && schemas.includes(parts[0]!)) return parts[1]!;
  return null;
}

/** One walk of a statement's parse tree, collecting the tables it reads; throws at the first refusal. */
class PostgresReading {
  readonly tables = new Set<string>();

  constructor(private readonly allowed: ReadonlySet<string>) {}

  /** A SELECT: its WITH names are visible in its body, each CTE seeing those before it (all of them if RECURSIVE). */
  select(body: Tree, scope: ReadonlySet<string>): void {
    if (body.intoClause)
      throw new SqlRefusedError('SELECT … INTO writes a table; only read-only queries can run here.');
    if (Array.isArray(body.lockingClause) && body.lockingClause.length > 0)
      throw new SqlRefusedError('FOR UPDATE and FOR SHARE lock rows; only plain reads can run here.');
    let inner = scope;
    const withClause = body.withClause as Tree | undefined;
    if (withClause) {
      const ctes = (Array.isArray(withClause.ctes) ? withClause.ctes : []).map(
        (item) => (item as Tree).CommonTableExpr as Tree | undefined,
      );
      const visible = new Set(scope);
      if (withClause.recursive) for (const cte of ctes) if (cte) visible.add(String(cte.ctename));
      for (const cte of ctes) {
        if (!cte) throw new SqlRefusedError(NOT_A_READ);
        const query = cte.ctequery as Tree | undefined;
        const [kind] = Object.keys(query ?? {});
        if (kind !== 'SelectStmt')
          throw new SqlRefusedError(
            `${NOT_A_READ.slice(0, -1)}; this WITH holds ${statementWords(kind ?? 'unknown')}.`,
          );
        this.fields(cte, new Set(visible));
        visible.add(String(cte.ctename));
      }
      inner = visible;
    }
    for (const [key, child] of Object.entries(body)) {
      if (key !== 'withClause') this.visit(child, inner);
    }
  }

  private visit(value: unknown, scope: ReadonlySet<string>): void {
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item, scope);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const keys = Object.keys(value);
    // A node is wrapped as { Kind: {...fields} }; a struct held inline has lower-case field names.
    if (keys.length === 1 && /^[A-Z]/.test(keys[0]!)) this.node(keys[0]!, (value as Tree)[keys[0]!] as Tree, scope);
    else this.fields(value as Tree, scope);
  }

  private fields(body: Tree, scope: ReadonlySet<string>): void {
    for (const [key, child] of Object.entries(body)) {
      if (key === 'typeName') this.type(child as Tree);
      if (key === 'intoClause' && child)
        throw new SqlRefusedError('SELECT … INTO writes a table; only read-only queries can run here.');
      this.visit(child, scope);
    }
  }

  private node(kind: string, body: Tree, scope: ReadonlySet<string>): void {
    switch (kind) {
      case 'SelectStmt':
        this.select(body, scope);
        return;
      case 'RangeVar':
        this.relation(body, scope);
        return;
      case 'FuncCall':
        this.function(names(body.funcname));
        break;
      case 'A_Expr':
        this.operator(names(body.name));
        break;
      case 'SubLink':
        if (body.operName) this.operator(names(body.operName));
        break;
      case 'SortBy':
        // ORDER BY x USING <op>
        if (body.useOp) this.operator(names(body.useOp));
        break;
      case 'TypeName':
        this.type(body);
        break;
      case 'SQLValueFunction':
        if (!ALLOWED_VALUE_FUNCTIONS.has(String(body.op))) {
          throw new SqlRefusedError(
            `${String(body.op)
              .replace(/^SVFOP_/, '')
              .toLowerCase()} is not available in queries; only the current date and time are.`,
          );
        }
        break;
      default:
        if (!ALLOWED_NODES.has(kind))
          throw new SqlRefusedError(
            `That SQL uses ${NODE_WORDS[kind] ?? kind}, which is not allowed in queries. ${NOT_A_READ}`,
          );
    }
    this.fields(body, scope);
  }

  private relation(body: Tree, scope: ReadonlySet<string>): void {
    const parts = [body.catalogname, body.schemaname, body.relname].filter(
      (part): part is string => typeof part === 'string' && part.length > 0,
    );
    const name = String(body.relname ?? '');
    // An unqualified name in a CTE's scope is that CTE; a qualified one never is.
    if (parts.length === 1 && scope.has(name)) return;
    if (unqualified(parts, DEFAULT_SCHEMA) === null || !this.allowed.has(name))
      throw new SqlRefusedError(unknownTableMessage(parts.join('.'), this.allowed));
    this.tables.add(name);
  }

  private function(parts: string[]): void {
    const name = unqualified(parts, CATALOG_SCHEMA);
    if (name === null || !ALLOWED_FUNCTIONS.has(name)) {
      throw new SqlRefusedError(
        `The function ${parts.join('.')}() is not allowed in queries. Ordinary string, number, date, JSON, array, aggregate and window functions are.`,
      );
    }
  }

  private operator(parts: string[]): void {
    const name = unqualified(parts, CATALOG_SCHEMA);
    if (name === null || !ALLOWED_OPERATORS.has(name))
      throw new SqlRefusedError(`The operator ${parts.join('.')} is not allowed in queries.`);
  }

  private type(held: Tree | undefined): void {
    if (!held || typeof held !== 'object') return;
    const body = (held.TypeName as Tree | undefined) ?? held;
    const parts = names(body.names);
    const name = unqualified(parts, CATALOG_SCHEMA);
    if (body.setof || body.pct_type || name === null || !ALLOWED_TYPES.has(name))
      throw new SqlRefusedError(`The type ${parts.join('.') || 'given'} cannot be used in queries.`);
  }
}
