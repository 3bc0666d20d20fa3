import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEFAULT_BATCH_SIZE, QueryExecutionError, QueryTimeoutError, kindFromDeclaredType, type CellValue, type DataSource, type QueryColumn, type QueryPreview, type RowStream, type StreamOptions } from './data-source';

// Each query runs in its own short-lived child process on a read-only connection. better-sqlite3 is
// synchronous and cannot interrupt a statement, and a worker thread cannot be stopped while SQLite
// is inside a statement; a process can always be killed. So the statement timeout is a SIGKILL, and a
// slow query never blocks the server's event loop. One spare process is kept warm so a query does
// not wait for Node to start.
const CHILD_SOURCE = String.raw`
const Database = require(process.argv[1]);
const db = new Database(process.argv[2], { readonly: true, fileMustExist: true });
db.pragma('query_only = ON');
process.on('disconnect', () => process.exit(0));
// The server went away mid-send (EPIPE): nothing is left to answer.
process.on('error', () => process.exit(0));
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// Rows travel as JSON (the fastest IPC here); the few values JSON cannot carry are tagged.
let special = false;
function toCell(value) {
  if (typeof value === 'bigint') {
    if (value <= MAX_SAFE && value >= -MAX_SAFE) return Number(value);
    special = true;
    return { $bigint: value.toString() };
  }
  if (value instanceof Uint8Array) {
    special = true;
    return { $bytes: Buffer.from(value).toString('base64') };
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    special = true;
    return { $number: String(value) };
  }
  return value;
}
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
process.on('message', (message) => {
  try {
    if (message.kind === 'preview') {
      db.exec('BEGIN');
      const statement = prepare(message.sql);
      const rows = [];
      for (const row of statement.iterate()) { rows.push(toRow(row)); if (rows.length >= message.limit) break; }
      const count = db.prepare('SELECT count(*) FROM (' + message.sql + ')').pluck().get();
      db.exec('COMMIT');
      process.send({ kind: 'preview', columns: columnsOf(statement), rows, totalRows: Number(count), special });
      special = false;
    } else if (message.kind === 'open') {
      // One transaction for the whole read: every batch comes from the same snapshot.
      db.exec('BEGIN');
      const statement = prepare(message.sql);
      iterator = statement.iterate();
      process.send({ kind: 'opened', columns: columnsOf(statement) });
    } else if (message.kind === 'next') {
      const rows = [];
      let done = false;
      while (rows.length < message.batchSize) {
        const next = iterator.next();
        if (next.done) { done = true; break; }
        rows.push(toRow(next.value));
      }
      process.send({ kind: 'batch', rows, done, special });
      special = false;
    }
  } catch (error) {
    process.send({ kind: 'error', message: error && error.message ? error.message : String(error) });
  }
});
process.send({ kind: 'ready' });
`;

type QueryReply =
  | { kind: 'preview'; columns: Array<{ name: string; type: string | null }>; rows: CellValue[][]; totalRows: number; special: boolean }
  | { kind: 'opened'; columns: Array<{ name: string; type: string | null }> }
  | { kind: 'batch'; rows: CellValue[][]; done: boolean; special: boolean }
  | { kind: 'error'; message: string }
  | { kind: 'ready' };

const driverPath = createRequire(path.join(process.cwd(), 'package.json')).resolve('better-sqlite3');

type Tagged = { $bigint?: string; $bytes?: string; $number?: string };

/** Restores the values the child tagged because JSON cannot carry them. */
function reviveRows(rows: CellValue[][], special: boolean): CellValue[][] {
  if (!special) return rows;
  return rows.map((row) =>
    row.map((value) => {
      if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array) return value;
      const tagged = value as Tagged;
      if (tagged.$bigint !== undefined) return BigInt(tagged.$bigint);
      if (tagged.$bytes !== undefined) return new Uint8Array(Buffer.from(tagged.$bytes, 'base64'));
      if (tagged.$number !== undefined) return Number(tagged.$number);
      return value;
    }),
  );
}

interface SpawnedProcess {
  child: ChildProcess;
  /** Settles once the process has opened the database (or exited). */
  ready: Promise<void>;
}

function spawnQueryProcess(file: string): SpawnedProcess {
  const child = spawn(process.execPath, ['-e', CHILD_SOURCE, driverPath, file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'json' });
  child.unref();
  child.channel?.unref();
  // Listen from the start: a spare says it is ready long before anyone asks it anything.
  const ready = new Promise<void>((resolve) => {
    const onMessage = (message: QueryReply) => {
      if (message.kind !== 'ready') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return { child, ready };
}

/** One query's process: request/reply over IPC, killed on timeout or when the query is done. */
class QueryProcess {
  private pending: { resolve: (reply: QueryReply) => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | null = null;
  private failure: Error | null = null;
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;

  constructor(spawned: SpawnedProcess, private readonly timeoutMs: number) {
    this.child = spawned.child;
    this.ready = spawned.ready;
    if (this.child.exitCode !== null || this.child.signalCode !== null) this.failure = new QueryExecutionError('The query process could not start.');
    this.child.on('message', (reply: QueryReply) => this.settle(reply));
    this.child.on('error', (error) => this.fail(error));
    this.child.on('exit', () => this.fail(new QueryExecutionError('The query stopped unexpectedly.')));
  }

  /** Sends one request and waits for its reply; past the timeout the process is killed. */
  async request(message: object): Promise<QueryReply> {
    // Keeps the event loop alive while an answer is awaited (the process is unref'd when idle, so a
    // spare never holds a CLI or a test runner open).
    this.child.channel?.ref();
    await this.ready;
    if (this.failure) {
      this.child.channel?.unref();
      throw this.failure;
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new QueryTimeoutError(this.timeoutMs));
        this.child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
      this.child.send(message);
    });
  }

  close(): void {
    this.failure ??= new QueryExecutionError('The query was closed.');
    this.child.kill('SIGKILL');
  }

  private settle(reply: QueryReply): void {
    if (reply.kind === 'ready') return;
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.child.channel?.unref();
    clearTimeout(pending.timer);
    if (reply.kind === 'error') pending.reject(new QueryExecutionError(reply.message));
    else pending.resolve(reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.child.channel?.unref();
    clearTimeout(pending.timer);
    pending.reject(this.failure);
  }
}

function toColumns(columns: Array<{ name: string; type: string | null }>): QueryColumn[] {
  return columns.map((column) => ({ name: column.name, kind: kindFromDeclaredType(column.type) }));
}

export function createSqliteDataSource(file: string, timeoutMs: number): DataSource {
  let spare: SpawnedProcess | null = null;
  let closed = false;
  const startQuery = (): QueryProcess => {
    const spawned = spare && spare.child.exitCode === null && spare.child.signalCode === null ? spare : spawnQueryProcess(file);
    spare = closed ? null : spawnQueryProcess(file);
    return new QueryProcess(spawned, timeoutMs);
  };

  return {
    dialect: 'sqlite',

    async listTables() {
      const query = startQuery();
      try {
        const reply = await query.request({ kind: 'preview', sql: "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", limit: 10_000 });
        return reply.kind === 'preview' ? reply.rows.map((row) => String(row[0])) : [];
      } finally {
        query.close();
      }
    },

    async preview(sql, limit): Promise<QueryPreview> {
      const query = startQuery();
      try {
        const reply = await query.request({ kind: 'preview', sql, limit });
        if (reply.kind !== 'preview') throw new QueryExecutionError('Unexpected reply from the query process.');
        return { columns: toColumns(reply.columns), rows: reviveRows(reply.rows, reply.special), totalRows: reply.totalRows };
      } finally {
        query.close();
      }
    },

    async stream(sql, options: StreamOptions = {}): Promise<RowStream> {
      const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
      const query = startQuery();
      let opened: QueryReply;
      try {
        opened = await query.request({ kind: 'open', sql });
      } catch (error) {
        query.close();
        throw error;
      }
      if (opened.kind !== 'opened') throw new QueryExecutionError('Unexpected reply from the query process.');
      return {
        columns: toColumns(opened.columns),
        close: async () => query.close(),
        async *[Symbol.asyncIterator]() {
          // One batch is always being read ahead while the consumer encodes the current one, so the
          // query process and the server work in parallel; never more than one, so memory stays flat.
          let next: Promise<QueryReply> = query.request({ kind: 'next', batchSize });
          try {
            for (;;) {
              const reply = await next;
              if (reply.kind !== 'batch') throw new QueryExecutionError('Unexpected reply from the query process.');
              if (!reply.done) next = query.request({ kind: 'next', batchSize });
              if (reply.rows.length > 0) yield reviveRows(reply.rows, reply.special);
              if (reply.done) return;
            }
          } finally {
            // A read-ahead still in flight fails when the process is closed; nobody waits for it.
            next.catch(() => undefined);
            query.close();
          }
        },
      };
    },

    async close() {
      closed = true;
      spare?.child.kill('SIGKILL');
      spare = null;
    },
  };
}
