import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_BATCH_SIZE, QueryExecutionError, QueryTimeoutError, kindFromDeclaredType, type CellValue, type DataSource, type QueryColumn, type QueryPreview, type RowStream, type StreamOptions } from './data-source';

// Each query runs in its own worker thread on a read-only connection. better-sqlite3 is synchronous
// and has no statement timeout, so the worker is what makes one possible (terminate() stops SQLite
// mid-statement) and keeps a slow query from blocking the server's event loop.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('query_only = ON');
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const toCell = (value) => (typeof value === 'bigint' && value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value);
const toRow = (row) => { for (let i = 0; i < row.length; i++) row[i] = toCell(row[i]); return row; };
function prepare(sql) {
  const statement = db.prepare(sql);
  if (!statement.reader || !statement.readonly) throw new Error('Only read-only queries that return rows can run here.');
  statement.raw(true);
  statement.safeIntegers(true);
  return statement;
}
const columnsOf = (statement) => statement.columns().map((c) => ({ name: c.name, type: c.type }));
let iterator = null;
parentPort.on('message', (message) => {
  try {
    if (message.kind === 'preview') {
      db.exec('BEGIN');
      const statement = prepare(message.sql);
      const rows = [];
      for (const row of statement.iterate()) { rows.push(toRow(row)); if (rows.length >= message.limit) break; }
      const count = db.prepare('SELECT count(*) FROM (' + message.sql + ')').pluck().get();
      db.exec('COMMIT');
      parentPort.postMessage({ kind: 'preview', columns: columnsOf(statement), rows, totalRows: Number(count) });
    } else if (message.kind === 'open') {
      // One transaction for the whole read: every batch comes from the same snapshot.
      db.exec('BEGIN');
      const statement = prepare(message.sql);
      iterator = statement.iterate();
      parentPort.postMessage({ kind: 'opened', columns: columnsOf(statement) });
    } else if (message.kind === 'next') {
      const rows = [];
      let done = false;
      while (rows.length < message.batchSize) {
        const next = iterator.next();
        if (next.done) { done = true; break; }
        rows.push(toRow(next.value));
      }
      parentPort.postMessage({ kind: 'batch', rows, done });
    }
  } catch (error) {
    parentPort.postMessage({ kind: 'error', message: error && error.message ? error.message : String(error) });
  }
});
`;

type WorkerReply =
  | { kind: 'preview'; columns: Array<{ name: string; type: string | null }>; rows: CellValue[][]; totalRows: number }
  | { kind: 'opened'; columns: Array<{ name: string; type: string | null }> }
  | { kind: 'batch'; rows: CellValue[][]; done: boolean }
  | { kind: 'error'; message: string };

const driverPath = createRequire(path.join(process.cwd(), 'package.json')).resolve('better-sqlite3');

class QueryWorker {
  private readonly worker: Worker;
  private pending: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | null = null;
  private failure: Error | null = null;

  constructor(file: string, private readonly timeoutMs: number) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driverPath } });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', () => this.fail(new QueryExecutionError('The query stopped unexpectedly.')));
  }

  /** Sends one request and waits for its reply, or stops the worker when the timeout passes. */
  request(message: object): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new QueryTimeoutError(this.timeoutMs));
        void this.worker.terminate();
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
      this.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new QueryExecutionError('The query was closed.');
    await this.worker.terminate();
  }

  private settle(reply: WorkerReply): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    clearTimeout(pending.timer);
    if (reply.kind === 'error') pending.reject(new QueryExecutionError(reply.message));
    else pending.resolve(reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    clearTimeout(pending.timer);
    pending.reject(this.failure);
  }
}

function toColumns(columns: Array<{ name: string; type: string | null }>): QueryColumn[] {
  return columns.map((column) => ({ name: column.name, kind: kindFromDeclaredType(column.type) }));
}

export function createSqliteDataSource(file: string, timeoutMs: number): DataSource {
  return {
    dialect: 'sqlite',

    async listTables() {
      const worker = new QueryWorker(file, timeoutMs);
      try {
        const reply = await worker.request({ kind: 'preview', sql: "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", limit: 10_000 });
        return reply.kind === 'preview' ? reply.rows.map((row) => String(row[0])) : [];
      } finally {
        await worker.close();
      }
    },

    async preview(sql, limit): Promise<QueryPreview> {
      const worker = new QueryWorker(file, timeoutMs);
      try {
        const reply = await worker.request({ kind: 'preview', sql, limit });
        if (reply.kind !== 'preview') throw new QueryExecutionError('Unexpected reply from the query worker.');
        return { columns: toColumns(reply.columns), rows: reply.rows, totalRows: reply.totalRows };
      } finally {
        await worker.close();
      }
    },

    async stream(sql, options: StreamOptions = {}): Promise<RowStream> {
      const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
      const worker = new QueryWorker(file, timeoutMs);
      let opened: WorkerReply;
      try {
        opened = await worker.request({ kind: 'open', sql });
      } catch (error) {
        await worker.close();
        throw error;
      }
      if (opened.kind !== 'opened') throw new QueryExecutionError('Unexpected reply from the query worker.');
      return {
        columns: toColumns(opened.columns),
        close: () => worker.close(),
        async *[Symbol.asyncIterator]() {
          try {
            for (;;) {
              const reply = await worker.request({ kind: 'next', batchSize });
              if (reply.kind !== 'batch') throw new QueryExecutionError('Unexpected reply from the query worker.');
              if (reply.rows.length > 0) yield reply.rows;
              if (reply.done) return;
            }
          } finally {
            await worker.close();
          }
        },
      };
    },

    async close() {},
  };
}
