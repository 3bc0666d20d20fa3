import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { POSTGRES_COPY_CSV_TYPES, postgresCopyCsvQuery } from './postgres-copy-csv';
import { crlfRecords } from './crlf-records';
import { log } from '../log';
import { createCsvEncoder } from '../export/encoders';
import { PREVIEW_CELL_CHARS, PREVIEW_MAX_BYTES } from '@/lib/limits';
import {
  DataSourceUnavailableError,
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_CELL_BYTES,
  QueryExecutionError,
  QueryTimeoutError,
  type CellValue,
  type ColumnKind,
  type DataSourceOptions,
  type EncodedBatch,
  type EncodedStream,
  type DataSource,
  type QueryColumn,
  type RowStream,
} from './data-source';
import { SqlRefusedError } from './guard';
import { guardPostgresSql } from './postgres-guard';
import { checkDataSourceRole } from './postgres-role';
import {
  countQuery,
  describeQuery,
  previewQuery,
  previewRow,
  sizeCheckColumn,
  sizeCheckMessage,
  sizeCheckedQuery,
} from './postgres-sql';

// Reads run in a READ ONLY, REPEATABLE READ transaction (one snapshot for preview and count, or for a
// whole export) with a statement timeout, through a server-side cursor a batch at a time. Every
// statement passes the PostgreSQL guard first (postgres-guard.ts), and the role it runs as is checked
// once, before the first query, to be unprivileged (a second wall behind the guard).
const KIND_BY_TYPE_OID: Record<number, ColumnKind> = {
  16: 'boolean',
  20: 'integer',
  21: 'integer',
  23: 'integer',
  700: 'float',
  701: 'float',
  1700: 'decimal',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamp',
  17: 'binary',
  25: 'text',
  1043: 'text',
};

const QUERY_CANCELED = '57014';

// Values keep PostgreSQL's exact text where JavaScript types would lose something: int8 and numeric
// stay strings (pg's default), `date` stays as it is, and timestamps become ISO 8601 text with every
// fractional digit (a Date would keep only milliseconds). The session runs in UTC with ISO dates.
const TIMESTAMPTZ = 1184;
const TIMESTAMP = 1114;
const isoTimestamp = (value: string) => value.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
/**
 * Types whose driver value a file can write as it is: booleans, bytea, integers, floats and numeric
 * (int8 and numeric arrive as exact text). Every other type — json and jsonb, arrays, intervals,
 * geometry, ranges, uuid, inet, enums — stays PostgreSQL's own text form (JSON text for json/jsonb):
 * the driver would turn them into objects no writer can put in a cell.
 */
const DRIVER_PARSED_TYPES: ReadonlySet<number> = new Set([16, 17, 20, 21, 23, 26, 700, 701, 1700]);
const asText = (value: string) => value;
const typeParsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMPTZ || oid === TIMESTAMP) return isoTimestamp;
    if (DRIVER_PARSED_TYPES.has(oid)) return pg.types.getTypeParser(oid, format);
    return asText;
  },
} as pg.CustomTypesConfig;

function openCursor(client: pg.PoolClient, sql: string): Cursor<CellValue[]> {
  return client.query(new Cursor<CellValue[]>(sql, [], { rowMode: 'array', types: typeParsers }));
}

/** Reads up to `count` rows and the result's column descriptions. */
function readBatch(
  cursor: Cursor<CellValue[]>,
  count: number,
): Promise<{ rows: CellValue[][]; fields: pg.FieldDef[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) =>
      error ? reject(error) : resolve({ rows, fields: result?.fields ?? [] }),
    );
  });
}

function toColumns(fields: pg.FieldDef[]): QueryColumn[] {
  return fields.map((field) => ({ name: field.name, kind: KIND_BY_TYPE_OID[field.dataTypeID] ?? 'unknown' }));
}

/** PostgreSQL ended the session (shutdown, crash, not accepting connections) or the socket broke. */
function isConnectionLoss(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (
    code.startsWith('08') ||
    ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)
  )
    return true;
  return /Connection terminated|not queryable|Client was closed/.test(error instanceof Error ? error.message : '');
}

/** Settles with the promise, or rejects after `ms`: a dead socket never answers. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function toExecutionError(error: unknown, timeoutMs: number): Error {
  if ((error as { code?: string }).code === QUERY_CANCELED) return new QueryTimeoutError(timeoutMs);
  if (isConnectionLoss(error)) return new DataSourceUnavailableError();
  return new QueryExecutionError((error as Error).message);
}

/** How long closing a cursor or transaction may take before the connection is dropped instead. */
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Session settings of every read. standard_conforming_strings is what the guard's parser assumes
 * (with it off, `'a\'` would not end a string here while it does for the guard); pg_catalog first, so
 * no function or operator in public can stand in for a built-in one.
 */
const sessionSettings = (timeoutMs: number) =>
  [
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    `SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`,
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    'SET LOCAL standard_conforming_strings = on',
    'SET LOCAL search_path = pg_catalog, public',
  ].join('; ');

/**
 * Rows of a result with unbounded columns are fetched FIRST_FETCH_ROWS at first, then as many as fit
 * BATCH_BYTES at the largest row seen so far (never more than asked): a result of 10 MB values comes
 * a row or two at a time instead of a thousand. A result whose rows grow from small to near
 * EXPORT_MAX_CELL_BYTES within one fetch can still bring that fetch's rows in whole.
 */
const FIRST_FETCH_ROWS = 16;
const BATCH_BYTES = 8 * 1024 * 1024;

function rowBytes(row: CellValue[]): number {
  let bytes = 0;
  for (const value of row)
    bytes += typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.byteLength : 8;
  return bytes;
}

export function createPostgresDataSource(
  connectionString: string,
  timeoutMs: number,
  options: Partial<DataSourceOptions> = {},
): DataSource {
  const { maxCellBytes = DEFAULT_MAX_CELL_BYTES, allowPrivileged = false } = options;
  // Rows of user queries are read through cursors with typeParsers; the pool keeps the driver's own parsers
  // for the app's queries of the catalog (role checks read arrays as arrays).
  const pool = new pg.Pool({ connectionString, max: 10 });
  // A server restart or a killed backend ends connections with an 'error' event, idle or in use;
  // unheard, it would crash the process. The query in flight fails on its own; the pool replaces
  // the connection.
  const broken = new WeakSet<pg.Client>();
  pool.on('connect', (client) =>
    client.on('error', (error) => {
      broken.add(client);
      log.warn({ err: error }, 'data source connection lost');
    }),
  );
  pool.on('error', () => undefined); // an idle connection's loss, already logged by the line above

  let verified: Promise<void> | null = null;
  /** The role is checked once, before the first query; a failed check is tried again next time. */
  function verifyRole(): Promise<void> {
    verified ??= checkDataSourceRole(pool, allowPrivileged).catch((error: unknown) => {
      throw isConnectionLoss(error) ? new DataSourceUnavailableError() : error;
    });
    verified.catch(() => (verified = null));
    return verified;
  }

  let tables: Promise<string[]> | null = null;
  /** The allowed tables, read once: every table and view of schema public but pg_* names (catalog names come first on the search path). */
  function allowedTables(): Promise<string[]> {
    tables ??= verifyRole()
      .then(() =>
        pool.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'pg\\_%' ORDER BY table_name",
        ),
      )
      .then((result) => result.rows.map((row) => row.table_name));
    tables.catch(() => (tables = null));
    return tables;
  }

  const guard = async (sql: string) => guardPostgresSql(sql, await allowedTables());

  async function beginReadOnly(): Promise<pg.PoolClient> {
    await verifyRole();
    const client = await pool.connect().catch((error: unknown) => {
      throw isConnectionLoss(error) ? new DataSourceUnavailableError() : error;
    });
    try {
      await client.query(sessionSettings(timeoutMs));
      return client;
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  async function finish(client: pg.PoolClient, failed: boolean): Promise<void> {
    if (broken.has(client)) {
      client.release(true);
      return;
    }
    try {
      await within(client.query(failed ? 'ROLLBACK' : 'COMMIT'), CLOSE_TIMEOUT_MS);
      client.release();
    } catch {
      client.release(true);
    }
  }

  async function describe(client: pg.PoolClient, sql: string): Promise<pg.FieldDef[]> {
    return (await client.query({ text: describeQuery(sql), rowMode: 'array' })).fields;
  }

  /** The statement with its size check (postgres-sql.ts); asks the database for the checked column's type name when it is not a common one. */
  async function sizeChecked(client: pg.PoolClient, sql: string, fields: pg.FieldDef[]): Promise<string> {
    const typeOids = fields.map((field) => field.dataTypeID);
    const check = sizeCheckColumn(typeOids);
    if (!check) return sql;
    const field = fields[check.index]!;
    const typeName =
      check.typeName ??
      (
        await client.query<{ name: string }>('SELECT format_type($1, $2) AS name', [
          field.dataTypeID,
          field.dataTypeModifier,
        ])
      ).rows[0]!.name;
    return sizeCheckedQuery(
      sql,
      fields.map((item) => item.name),
      typeOids,
      maxCellBytes,
      typeName,
    );
  }

  /** The error as the person should read it: a size check's sentence, else the database's. */
  const failure = (error: unknown, columnNames: string[]) => {
    const tooLarge = sizeCheckMessage(error, columnNames, maxCellBytes);
    return tooLarge ? new SqlRefusedError(tooLarge) : toExecutionError(error, timeoutMs);
  };

  return {
    dialect: 'postgresql',

    listTables: allowedTables,

    async describeTables() {
      const allowed = await allowedTables();
      // Trusted code: the columns of the allowed tables of public, from pg_attribute, in column order.
      const result = await pool.query<{ table_name: string; column_name: string; type_oid: number }>(
        `SELECT c.relname AS table_name, a.attname AS column_name, a.atttypid::int AS type_oid
           FROM pg_catalog.pg_attribute a
           JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY c.relname, a.attnum`,
        [allowed],
      );
      return allowed.map((table) => ({
        table,
        columns: result.rows
          .filter((row) => row.table_name === table)
          .map((row) => ({ name: row.column_name, kind: KIND_BY_TYPE_OID[row.type_oid] ?? 'unknown' })),
      }));
    },

    check: guard,

    async preview(sql, limit) {
      const guarded = await guard(sql);
      const client = await beginReadOnly();
      let failed = true;
      try {
        const fields = await describe(client, guarded.sql);
        const { text, reads } = previewQuery(
          guarded.sql,
          fields.map((field) => field.dataTypeID),
        );
        const rows: CellValue[][] = [];
        let cutCells = 0;
        let bytes = 0;
        let bytesLimited = false;
        if (limit > 0) {
          const cursor = openCursor(client, text);
          // Each fetch takes as many rows as fit what is left of the byte budget at their largest size.
          const largestRow = Math.max(1, fields.length) * PREVIEW_CELL_CHARS * 4;
          while (rows.length < limit && !bytesLimited) {
            const count = Math.max(
              1,
              Math.min(limit - rows.length, Math.floor((PREVIEW_MAX_BYTES - bytes) / largestRow)),
            );
            const batch = await cursor.read(count);
            for (const raw of batch) {
              const row = previewRow(raw, reads, () => cutCells++);
              const size = rowBytes(row);
              if (rows.length > 0 && bytes + size > PREVIEW_MAX_BYTES) {
                bytesLimited = true;
                break;
              }
              rows.push(row);
              bytes += size;
            }
            if (batch.length < count) break;
          }
          await cursor.close();
        }
        const total = await client.query<{ count: string }>(countQuery(guarded.sql));
        failed = false;
        return {
          columns: toColumns(fields),
          rows,
          totalRows: Number(total.rows[0]?.count ?? 0),
          tables: guarded.tables,
          cutCells,
          bytesLimited,
        };
      } catch (error) {
        throw toExecutionError(error, timeoutMs);
      } finally {
        await finish(client, failed);
      }
    },

    async stream(sql, options = {}): Promise<RowStream> {
      const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
      const guarded = await guard(sql);
      const client = await beginReadOnly();
      let cursor: Cursor<CellValue[]>;
      let first: { rows: CellValue[][]; fields: pg.FieldDef[] };
      let columnNames: string[] = [];
      let asked = batchSize;
      try {
        const fields = await describe(client, guarded.sql);
        const typeOids = fields.map((field) => field.dataTypeID);
        columnNames = fields.map((field) => field.name);
        if (sizeCheckColumn(typeOids)) asked = Math.min(batchSize, FIRST_FETCH_ROWS);
        cursor = openCursor(client, await sizeChecked(client, guarded.sql, fields));
        first = await readBatch(cursor, asked);
      } catch (error) {
        await finish(client, true);
        throw failure(error, columnNames);
      }
      const columns = toColumns(first.fields);
      let closed = false;
      const close = async (failed = true) => {
        if (closed) return;
        closed = true;
        // On a lost connection the cursor's close would wait forever for the server's answer.
        if (
          broken.has(client) ||
          !(await within(cursor.close(), CLOSE_TIMEOUT_MS).then(
            () => true,
            () => false,
          ))
        ) {
          client.release(true);
          return;
        }
        await finish(client, failed);
      };
      return {
        columns,
        close: () => close(),
        async *[Symbol.asyncIterator]() {
          let failed = true;
          let largestRow = 1;
          try {
            let batch = first.rows;
            while (batch.length > 0) {
              for (const row of batch) largestRow = Math.max(largestRow, rowBytes(row));
              yield batch;
              if (batch.length < asked) break;
              // Rows of a few bytes come a full batch at a time; large ones fewer at a time.
              asked = Math.max(1, Math.min(batchSize, Math.floor(BATCH_BYTES / largestRow)));
              batch = await cursor.read(asked).catch((error: unknown) => {
                // The server's "terminating connection" reaches the query before the socket closes.
                if (isConnectionLoss(error)) broken.add(client);
                throw failure(error, columnNames);
              });
            }
            failed = false;
          } finally {
            await close(failed);
          }
        },
      };
    },

    async streamEncoded(sql, { format, options }): Promise<EncodedStream | null> {
      // JSON has no SQL-side formatting here; it goes through the cursor.
      if (format !== 'csv') return null;
      const guarded = await guard(sql);
      const client = await beginReadOnly();
      let fields: pg.FieldDef[];
      try {
        fields = await describe(client, guarded.sql);
      } catch (error) {
        await finish(client, true);
        throw toExecutionError(error, timeoutMs);
      }
      // One-column files and types SQL cannot render exactly go through the cursor (see postgres-copy-csv.ts).
      if (fields.length < 2 || !fields.every((field) => POSTGRES_COPY_CSV_TYPES.has(field.dataTypeID))) {
        await finish(client, false);
        return null;
      }
      const columns = toColumns(fields);
      const columnNames = fields.map((field) => field.name);
      const typeOids = fields.map((field) => field.dataTypeID);
      // The same size check as the cursor's, though COPY streams through in network-sized pieces and
      // never holds a value whole: one limit for every format.
      let copySql: string;
      try {
        copySql = postgresCopyCsvQuery(
          await sizeChecked(client, guarded.sql, fields),
          typeOids,
          options.neutraliseFormulas,
        );
      } catch (error) {
        await finish(client, true);
        throw toExecutionError(error, timeoutMs);
      }
      const copy = client.query(copyTo(`COPY (${copySql}) TO STDOUT (FORMAT csv)`));
      const batches = crlfRecords(copy);
      let closed = false;
      const close = async (failed: boolean) => {
        if (closed) return;
        closed = true;
        if (failed) {
          // A COPY cannot be stopped halfway on its connection: drop the connection, which ends the
          // backend's query, rather than reading the rest.
          copy.destroy();
          client.release(true);
        } else {
          await finish(client, false);
        }
      };
      // The first batch is read now so that SQL errors surface before any byte is sent.
      let first: IteratorResult<EncodedBatch>;
      try {
        first = await batches.next();
      } catch (error) {
        await close(true);
        throw failure(error, columnNames);
      }
      return {
        columns,
        close: () => close(true),
        async *[Symbol.asyncIterator]() {
          let failed = true;
          try {
            // The header comes from csv-stringify, as on the row path.
            yield { rows: 0, bytes: Buffer.from(createCsvEncoder(columns, options).start()) };
            for (let next = first; !next.done; next = await batches.next()) yield next.value;
            failed = false;
          } catch (error) {
            throw failure(error, columnNames);
          } finally {
            await close(failed);
          }
        },
      };
    },

    async verify() {
      await verifyRole();
    },

    async close() {
      await pool.end();
    },
  };
}
