import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { createEncoder } from '../export/encoders';
import { PREVIEW_CELL_CHARS, PREVIEW_MAX_BYTES } from '@/lib/limits';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_CELL_BYTES,
  QueryExecutionError,
  QueryTimeoutError,
  cutCellText,
  kindFromDeclaredType,
  type CellValue,
  type DataSource,
  type DataSourceOptions,
  type EncodedStream,
  type QueryColumn,
  type QueryPreview,
  type RowStream,
  type StreamOptions,
} from './data-source';
import { SqlRefusedError, inTextOrder, trimStatement } from './guard';
import type { QueryReply, QueryRequest } from './sqlite-protocol';

// Each query runs in its own short-lived child process on a read-only connection. better-sqlite3 is
// synchronous and cannot interrupt a statement, and a worker thread cannot be stopped while SQLite
// is inside a statement; a process can always be killed. So the statement timeout is a SIGKILL, and a
// slow query never blocks the server's event loop. One spare process is kept warm so a query does
// not wait for Node to start. The process's program is sqlite-query-process.ts: it prepares every
// statement through the SQLite guard and encodes some export batches with the server's own writers.

/**
 * The query process's program, bundled once per server process from its TypeScript source with
 * esbuild (which tsx, the project's runner, already brings): one typed, linted file, run with no
 * build step, whether the server runs under tsx, Vitest or `next start`. It is written to a file named
 * after its content (a command-line argument is limited to 128 KB); processes of any version share
 * only identical programs.
 */
let programFile: string | null = null;
function queryProcessProgram(): string {
  if (programFile) return programFile;
  const program = buildSync({
    // Runtime path, not a build input: turbopackIgnore keeps Next from tracing it.
    entryPoints: [path.join(/* turbopackIgnore: true */ process.cwd(), 'server', 'query', 'sqlite-query-process.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['better-sqlite3'],
    logLevel: 'silent',
  }).outputFiles[0]!.text;
  const file = path.join(
    tmpdir(),
    `askport-sqlite-query-process-${createHash('sha256').update(program).digest('hex').slice(0, 16)}.cjs`,
  );
  if (!existsSync(file)) {
    // Written whole under a name of its own, then renamed: another process never runs half a file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, program);
    renameSync(partial, file);
  }
  programFile = file;
  return file;
}

const requireFromApp = createRequire(path.join(process.cwd(), 'package.json'));
const driverPath = requireFromApp.resolve('better-sqlite3');

type Tagged = Partial<{
  $bigint: string;
  $bytes: string;
  $number: string;
  $cut: string;
  length: number;
  unit: 'characters' | 'bytes';
}>;

/** Restores the values the child tagged because JSON cannot carry them. */
function reviveRows(rows: CellValue[][], special: boolean): CellValue[][] {
  if (!special) return rows;
  return rows.map((row) =>
    row.map((value) => {
      if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array)
        return value;
      const tagged = value as Tagged;
      if (tagged.$bigint !== undefined) return BigInt(tagged.$bigint);
      if (tagged.$bytes !== undefined) return new Uint8Array(Buffer.from(tagged.$bytes, 'base64'));
      if (tagged.$number !== undefined) return Number(tagged.$number);
      if (tagged.$cut !== undefined) return cutCellText(tagged.$cut, tagged.length ?? 0, tagged.unit ?? 'characters');
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
  const child = spawn(process.execPath, [queryProcessProgram(), driverPath, file], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'json',
  });
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
  /** Requests sent and not yet answered, oldest first: the process answers in order. */
  private readonly pending: Array<{
    resolve: (reply: QueryReply) => void;
    reject: (error: Error) => void;
    timer: NodeJS.Timeout;
  }> = [];
  private failure: Error | null = null;
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;

  private readonly onMessage = (reply: QueryReply) => this.settle(reply);
  private readonly onError = (error: Error) => this.fail(error);
  private readonly onExit = () => this.fail(new QueryExecutionError('The query stopped unexpectedly.'));

  constructor(
    private readonly spawned: SpawnedProcess,
    private readonly timeoutMs: number,
  ) {
    this.child = spawned.child;
    this.ready = spawned.ready;
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      this.failure = new QueryExecutionError('The query process could not start.');
    this.child.on('message', this.onMessage);
    this.child.on('error', this.onError);
    this.child.on('exit', this.onExit);
  }

  /**
   * Hands the process back untouched after requests that leave no state in it (a guard check): the
   * process, when it is alive and answered everything, else null (and it is killed).
   */
  release(): SpawnedProcess | null {
    this.child.off('message', this.onMessage);
    this.child.off('error', this.onError);
    this.child.off('exit', this.onExit);
    const reusable =
      this.failure === null &&
      this.pending.length === 0 &&
      this.child.exitCode === null &&
      this.child.signalCode === null;
    if (!reusable) this.child.kill('SIGKILL');
    this.child.channel?.unref();
    return reusable ? this.spawned : null;
  }

  /** Sends one request and waits for its reply; past the timeout the process is killed. */
  async request(message: QueryRequest): Promise<QueryReply> {
    // Keeps the event loop alive while an answer is awaited (the process is unref'd when idle, so a
    // spare never holds a CLI or a test runner open).
    this.child.channel?.ref();
    await this.ready;
    if (this.failure) {
      if (this.pending.length === 0) this.child.channel?.unref();
      throw this.failure;
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new QueryTimeoutError(this.timeoutMs));
        this.child.kill('SIGKILL');
      }, this.timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.child.send(message);
    });
  }

  close(): void {
    this.failure ??= new QueryExecutionError('The query was closed.');
    this.child.kill('SIGKILL');
  }

  private settle(reply: QueryReply): void {
    if (reply.kind === 'ready') return;
    const pending = this.pending.shift();
    if (!pending) return;
    if (this.pending.length === 0) this.child.channel?.unref();
    clearTimeout(pending.timer);
    if (reply.kind === 'error')
      pending.reject(reply.refused ? new SqlRefusedError(reply.message) : new QueryExecutionError(reply.message));
    else pending.resolve(reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    if (this.pending.length > 0) this.child.channel?.unref();
    for (const pending of this.pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(this.failure);
    }
  }
}

/** Sends the first requests of a stream; on failure the process is closed before the error travels on. */
async function requestOrClose<Kind extends QueryReply['kind']>(
  query: QueryProcess,
  message: QueryRequest,
  expected: Kind,
): Promise<Extract<QueryReply, { kind: Kind }>> {
  let reply: QueryReply;
  try {
    reply = await query.request(message);
  } catch (error) {
    query.close();
    throw error;
  }
  if (reply.kind !== expected) {
    query.close();
    throw new QueryExecutionError('Unexpected reply from the query process.');
  }
  return reply as Extract<QueryReply, { kind: Kind }>;
}

/**
 * Every batch reply until the query is done; `encodeInProcess(n)` says whether the query process
 * encodes batch n itself. Two batches are always requested ahead while the consumer handles the
 * current one, so the query process and the server work in parallel without waiting on each other;
 * never more, so memory stays flat. The process is closed when the reading stops, however it stops.
 */
async function* readAhead(
  query: QueryProcess,
  batchSize: number,
  encodeInProcess: (index: number) => boolean,
  limits: BatchLimits,
): AsyncGenerator<QueryReply> {
  const AHEAD = 2;
  let index = 0;
  const requestNext = () => {
    const reply = query.request({ kind: 'next', batchSize, encode: encodeInProcess(index++), ...limits });
    // A read-ahead may fail after the reader has stopped (the process is closed); the reader that
    // awaits it still sees the failure.
    reply.catch(() => undefined);
    return reply;
  };
  const inFlight: Array<Promise<QueryReply>> = [];
  try {
    for (let ahead = 0; ahead < AHEAD; ahead++) inFlight.push(requestNext());
    for (;;) {
      const reply = await inFlight.shift()!;
      const done = (reply.kind === 'batch' || reply.kind === 'encoded') && reply.done;
      // Requests past the end are answered with empty batches; they are never waited for.
      if (!done) inFlight.push(requestNext());
      yield reply;
      if (done) return;
    }
  } finally {
    query.close();
  }
}

/** How much one batch may hold, besides its row count; the query process ends a batch early past it. */
interface BatchLimits {
  /** Bytes of values after which a batch ends: with two read ahead, the server holds a few of these at most. */
  batchBytes: number;
  maxCellBytes: number;
}

const BATCH_BYTES = 8 * 1024 * 1024;

/**
 * The same replies, with the first one already awaited: a query that fails before its first row
 * (an error, a timeout, a value over the limit) fails here, before the caller sends any byte.
 */
async function firstReadFirst<T>(replies: AsyncGenerator<T>): Promise<AsyncGenerator<T>> {
  const first = await replies.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* replies;
  })();
}

/**
 * Rows per batch when the file is encoded from the query process: 750 made a million-row CSV 7%
 * faster than the default 1,000 (measured 2.12 s against 2.28 s in-process; 250, 400, 600 and 2,500
 * were slower). Likely because a batch's JSON then fits the 64 KB pipe buffer and arrives in one read.
 */
const ENCODED_BATCH_ROWS = 750;

function toColumns(columns: Array<{ name: string; type: string | null }>): QueryColumn[] {
  return columns.map((column) => ({ name: column.name, kind: kindFromDeclaredType(column.type) }));
}

export function createSqliteDataSource(
  file: string,
  timeoutMs: number,
  options: Partial<DataSourceOptions> = {},
): DataSource {
  const { maxCellBytes = DEFAULT_MAX_CELL_BYTES } = options;
  const limits: BatchLimits = { batchBytes: BATCH_BYTES, maxCellBytes };
  let spare: SpawnedProcess | null = null;
  let closed = false;
  /** The warm spare if it is alive, else a new process; the caller owns it. */
  const takeProcess = (): SpawnedProcess => {
    const taken =
      spare && spare.child.exitCode === null && spare.child.signalCode === null ? spare : spawnQueryProcess(file);
    spare = null;
    return taken;
  };
  const startQuery = (): QueryProcess => {
    const query = new QueryProcess(takeProcess(), timeoutMs);
    spare = closed ? null : spawnQueryProcess(file);
    return query;
  };
  /** One request in a process of its own, closed after the answer. */
  const ask = async <Kind extends QueryReply['kind']>(
    message: QueryRequest,
    expected: Kind,
  ): Promise<Extract<QueryReply, { kind: Kind }>> => {
    const query = startQuery();
    try {
      const reply = await query.request(message);
      if (reply.kind !== expected) throw new QueryExecutionError('Unexpected reply from the query process.');
      return reply as Extract<QueryReply, { kind: Kind }>;
    } finally {
      query.close();
    }
  };

  return {
    dialect: 'sqlite',

    async listTables() {
      return (await ask({ kind: 'tables' }, 'tables')).tables;
    },

    async describeTables() {
      const reply = await ask({ kind: 'describe' }, 'described');
      return reply.tables.map(({ table, columns }) => ({ table, columns: toColumns(columns) }));
    },

    async check(sql) {
      const statement = trimStatement(sql);
      // A check leaves nothing behind in the process (no transaction, no cursor), so the spare does it
      // and stays the spare: the export that usually follows does not wait for a new process.
      const query = new QueryProcess(takeProcess(), timeoutMs);
      try {
        const reply = await query.request({ kind: 'check', sql: statement });
        if (reply.kind !== 'checked') throw new QueryExecutionError('Unexpected reply from the query process.');
        return { sql: statement, tables: inTextOrder(reply.tables, statement) };
      } finally {
        const released = query.release();
        if (closed || spare) released?.child.kill('SIGKILL');
        else spare = released ?? spawnQueryProcess(file);
      }
    },

    async preview(input, limit): Promise<QueryPreview> {
      const sql = trimStatement(input);
      const reply = await ask(
        { kind: 'preview', sql, limit, cellChars: PREVIEW_CELL_CHARS, maxBytes: PREVIEW_MAX_BYTES },
        'preview',
      );
      return {
        columns: toColumns(reply.columns),
        rows: reviveRows(reply.rows, reply.special),
        totalRows: reply.totalRows,
        tables: inTextOrder(reply.tables, sql),
        cutCells: reply.cutCells,
        bytesLimited: reply.bytesLimited,
      };
    },

    async stream(sql, options: StreamOptions = {}): Promise<RowStream> {
      const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
      const statement = trimStatement(sql);
      const query = startQuery();
      const opened = await requestOrClose(query, { kind: 'open', sql: statement }, 'opened');
      const replies = await firstReadFirst(readAhead(query, batchSize, () => false, limits));
      return {
        columns: toColumns(opened.columns),
        close: async () => query.close(),
        async *[Symbol.asyncIterator]() {
          for await (const reply of replies) {
            if (reply.kind !== 'batch') throw new QueryExecutionError('Unexpected reply from the query process.');
            if (reply.rows.length > 0) yield reviveRows(reply.rows, reply.special);
          }
        },
      };
    },

    async streamEncoded(sql, { format, options, metadata }): Promise<EncodedStream> {
      const statement = trimStatement(sql);
      const query = startQuery();
      const opened = await requestOrClose(query, { kind: 'open', sql: statement }, 'opened');
      const columns = toColumns(opened.columns);
      await requestOrClose(query, { kind: 'encoder', format, columns, options, metadata }, 'encoder');
      const encoder = createEncoder(format, columns, options, metadata);
      // Every fourth batch is encoded by the query process, the rest here: same code, same bytes.
      // Reading costs the process about as much as encoding three batches costs the server, so
      // this split keeps both cores equally busy (measured with tests/bench).
      const replies = await firstReadFirst(readAhead(query, ENCODED_BATCH_ROWS, (index) => index % 4 === 3, limits));
      return {
        columns,
        close: async () => query.close(),
        async *[Symbol.asyncIterator]() {
          yield { rows: 0, bytes: Buffer.from(encoder.start()) };
          for await (const reply of replies) {
            if (reply.kind === 'encoded') {
              encoder.skip(reply.rows, reply.bigIntegerColumns);
              if (reply.rows > 0) yield { rows: reply.rows, bytes: Buffer.from(reply.text) };
            } else if (reply.kind === 'batch') {
              if (reply.rows.length > 0)
                yield {
                  rows: reply.rows.length,
                  bytes: Buffer.from(encoder.batch(reviveRows(reply.rows, reply.special))),
                };
            } else {
              throw new QueryExecutionError('Unexpected reply from the query process.');
            }
          }
          yield { rows: 0, bytes: Buffer.from(encoder.end()) };
        },
      };
    },

    async verify() {
      await this.listTables();
    },

    async close() {
      closed = true;
      spare?.child.kill('SIGKILL');
      spare = null;
    },
  };
}
