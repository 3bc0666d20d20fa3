import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import Cursor from 'pg-cursor';
import { POSTGRES_COPY_CSV_TYPES, postgresCopyCsvQuery } from '../export/csv-sql';
import { crlfRecords } from './crlf-records';
import { log } from '../log';
import { createCsvEncoder } from '../export/encoders';
import { DataSourceUnavailableError, DEFAULT_BATCH_SIZE, QueryExecutionError, QueryTimeoutError, type CellValue, type ColumnKind, type EncodedBatch, type EncodedStream, type DataSource, type QueryColumn, type RowStream } from './data-source';

// Reads run in a READ ONLY, REPEATABLE READ transaction (one snapshot for preview and count, or for a
// whole export) with a statement timeout, through a server-side cursor a batch at a time.
const KIND_BY_TYPE_OID: Record<number, ColumnKind> = {
  16: 'boolean',
  20: 'integer',
  21: 'integer',
  23: 'integer',
  700: 'float',
  701: 'float',
  1700: 'decimal',
  1082: 'date',
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
const DATE = 1082;
const isoTimestamp = (value: string) => value.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
const typeParsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    if (oid === DATE) return (value: string) => value;
    if (oid === TIMESTAMPTZ || oid === TIMESTAMP) return isoTimestamp;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function openCursor(client: pg.PoolClient, sql: string): Cursor<CellValue[]> {
  return client.query(new Cursor<CellValue[]>(sql, [], { rowMode: 'array', types: typeParsers }));
}

/** Reads up to `count` rows and the result's column descriptions. */
function readBatch(cursor: Cursor<CellValue[]>, count: number): Promise<{ rows: CellValue[][]; fields: pg.FieldDef[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => (error ? reject(error) : resolve({ rows, fields: result?.fields ?? [] })));
  });
}

function toColumns(fields: pg.FieldDef[]): QueryColumn[] {
  return fields.map((field) => ({ name: field.name, kind: KIND_BY_TYPE_OID[field.dataTypeID] ?? 'unknown' }));
}

/** PostgreSQL ended the session (shutdown, crash, not accepting connections) or the socket broke. */
function isConnectionLoss(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (code.startsWith('08') || ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
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

export function createPostgresDataSource(connectionString: string, timeoutMs: number): DataSource {
  const pool = new pg.Pool({ connectionString, max: 10, types: typeParsers });
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

  async function beginReadOnly(): Promise<pg.PoolClient> {
    const client = await pool.connect().catch((error: unknown) => {
      throw isConnectionLoss(error) ? new DataSourceUnavailableError() : error;
    });
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
      await client.query("SET LOCAL TimeZone = 'UTC'");
      await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
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

  return {
    dialect: 'postgresql',

    async listTables() {
      const result = await pool.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
      return result.rows.map((row) => row.table_name);
    },

    async preview(sql, limit) {
      const client = await beginReadOnly();
      let failed = true;
      try {
        const cursor = openCursor(client, sql);
        const { rows, fields } = await readBatch(cursor, limit);
        await cursor.close();
        const count = await client.query<{ count: string }>(`SELECT count(*) AS count FROM (${sql}) AS askport_preview`);
        failed = false;
        return { columns: toColumns(fields), rows, totalRows: Number(count.rows[0]?.count ?? 0) };
      } catch (error) {
        throw toExecutionError(error, timeoutMs);
      } finally {
        await finish(client, failed);
      }
    },

    async stream(sql, options = {}): Promise<RowStream> {
      const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
      const client = await beginReadOnly();
      const cursor = openCursor(client, sql);
      let first: { rows: CellValue[][]; fields: pg.FieldDef[] };
      try {
        first = await readBatch(cursor, batchSize);
      } catch (error) {
        await finish(client, true);
        throw toExecutionError(error, timeoutMs);
      }
      const columns = toColumns(first.fields);
      let closed = false;
      const close = async (failed = true) => {
        if (closed) return;
        closed = true;
        // On a lost connection the cursor's close would wait forever for the server's answer.
        if (broken.has(client) || !(await within(cursor.close(), CLOSE_TIMEOUT_MS).then(() => true, () => false))) {
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
          try {
            let batch = first.rows;
            while (batch.length > 0) {
              yield batch;
              if (batch.length < batchSize) break;
              batch = await cursor.read(batchSize).catch((error: unknown) => {
                // The server's "terminating connection" reaches the query before the socket closes.
                if (isConnectionLoss(error)) broken.add(client);
                throw toExecutionError(error, timeoutMs);
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
      const client = await beginReadOnly();
      let fields: pg.FieldDef[];
      try {
        fields = (await client.query({ text: `SELECT * FROM (${sql}\n) AS askport_describe LIMIT 0`, rowMode: 'array' })).fields;
      } catch (error) {
        await finish(client, true);
        throw toExecutionError(error, timeoutMs);
      }
      // One-column files and types SQL cannot render exactly go through the cursor (see csv-sql.ts).
      if (fields.length < 2 || !fields.every((field) => POSTGRES_COPY_CSV_TYPES.has(field.dataTypeID))) {
        await finish(client, false);
        return null;
      }
      const columns = toColumns(fields);
      const copySql = postgresCopyCsvQuery(sql, fields.map((field) => field.dataTypeID), options.neutraliseFormulas);
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
        throw toExecutionError(error, timeoutMs);
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
            throw toExecutionError(error, timeoutMs);
          } finally {
            await close(failed);
          }
        },
      };
    },

    async close() {
      await pool.end();
    },
  };
}
