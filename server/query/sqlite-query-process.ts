import type BetterSqlite3 from 'better-sqlite3';
import { stringify } from 'csv-stringify/sync';
import { encodingRuntime, type ExportEncoder } from '../export/encoding';
import type { CellValue } from '../export/values';
import { valueTooLargeMessage } from './data-source';
import type { DeclaredColumn, QueryReply, QueryRequest, TaggedValue } from './sqlite-protocol';
import { SQLITE_GUARD_MESSAGES, sqliteGuardRuntime } from './sqlite-guard';

// One SQLite query process: the program sqlite-source.ts starts for each query (bundled by esbuild
// when the server first needs it). It opens the data source read-only, prepares every statement
// through the SQLite guard — so what is checked is the very program it runs — and answers the
// server's requests (sqlite-protocol.ts) one at a time. For CSV and JSON exports it also encodes
// some batches with the same writer code as the server, so both cores share the encoding.
// Arguments: the better-sqlite3 module path (resolved by the server, which knows where the app is)
// and the database file.

// The native driver is loaded from the path the server resolved.
const Database: typeof BetterSqlite3 = require(process.argv[2]!);
const db = new Database(process.argv[3]!, { readonly: true, fileMustExist: true });
db.pragma('query_only = ON');
// Schema code (views, defaults) runs with no function that has side effects.
db.pragma('trusted_schema = OFF');
const guard = sqliteGuardRuntime(SQLITE_GUARD_MESSAGES);
const encoding = encodingRuntime(stringify);

const send = (reply: QueryReply) => process.send!(reply);
process.on('disconnect', () => process.exit(0));
// The server went away mid-send (EPIPE): nothing is left to answer.
process.on('error', () => process.exit(0));

type DriverValue = CellValue | bigint | Buffer;
type Row = Array<DriverValue | TaggedValue>;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// Rows travel as JSON (the fastest IPC here); the few values JSON cannot carry are tagged.
let special = false;
function toCell(value: DriverValue | TaggedValue): DriverValue | TaggedValue {
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
const toRow = (row: Row): Row => {
  for (let i = 0; i < row.length; i++) row[i] = toCell(row[i]!);
  return row;
};

let tables: string[] = [];
function prepare(sql: string, exactIntegers = true): BetterSqlite3.Statement<unknown[], Row> {
  const prepared = guard.prepare(db, sql);
  tables = prepared.tables;
  prepared.statement.raw(true);
  prepared.statement.safeIntegers(exactIntegers);
  return prepared.statement as BetterSqlite3.Statement<unknown[], Row>;
}

// A preview holds at most cellChars characters of a value (its start, tagged with its length) and
// maxBytes in all, decided here so a huge value never crosses to the server.
let cutCells = 0;
function previewRow(row: Row, cellChars: number): number {
  let bytes = 0;
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (typeof value === 'string') {
      if (value.length > cellChars) {
        row[i] = { $cut: value.slice(0, cellChars), length: value.length, unit: 'characters' };
        cutCells++;
        special = true;
        bytes += cellChars;
      } else bytes += value.length;
    } else if (value instanceof Uint8Array) {
      const keep = Math.floor((cellChars * 3) / 4);
      if (value.length > keep) {
        row[i] = { $cut: Buffer.from(value.subarray(0, keep)).toString('base64'), length: value.length, unit: 'bytes' };
        cutCells++;
        special = true;
        bytes += cellChars;
      } else {
        row[i] = toCell(value);
        bytes += (value.length * 4) / 3;
      }
    } else {
      row[i] = toCell(value!);
      bytes += 8;
    }
  }
  return bytes;
}

// Exports: no value larger than maxCellBytes leaves this process (its column is named), and a batch
// ends early once it holds batchBytes, so the server never holds more than a few batches' worth.
let names: string[] = [];
function rowBytes(row: Row, maxCellBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    let size = 8;
    if (typeof value === 'string') size = value.length * 3 > maxCellBytes ? Buffer.byteLength(value) : value.length;
    else if (value instanceof Uint8Array) size = value.length;
    if (size > maxCellBytes)
      throw Object.assign(new Error(valueTooLargeMessage(names[i] ?? `#${i + 1}`, maxCellBytes)), { refused: true });
    bytes += size;
  }
  return bytes;
}

// Exports read integers as plain numbers (BigInt for every integer costs a third of the read) and
// switch to exact integers only when a value reaches 2^53, where a number may have lost digits: the
// statement then runs again in the same snapshot, skipping the rows already sent.
const UNSAFE = 2 ** 53;
const mayHaveLostDigits = (row: Row) =>
  row.some((value) => typeof value === 'number' && (value >= UNSAFE || value <= -UNSAFE));

let exportSql = '';
let exactIntegers = false;
let rowsSent = 0;
let encoder: ExportEncoder | null = null;
let iterator: IterableIterator<Row> | null = null;
const columnsOf = (statement: BetterSqlite3.Statement): DeclaredColumn[] =>
  statement.columns().map((column) => ({ name: column.name, type: column.type }));

function answer(message: QueryRequest): void {
  switch (message.kind) {
    case 'tables':
      send({ kind: 'tables', tables: guard.allowedTables(db) });
      return;
    case 'describe':
      // Trusted code, not user SQL: each allowed table's declared columns, as SQLite reports them.
      send({
        kind: 'described',
        tables: guard.allowedTables(db).map((table) => ({
          table,
          columns: columnsOf(db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}" LIMIT 0`)),
        })),
      });
      return;
    case 'check':
      prepare(message.sql);
      send({ kind: 'checked', tables });
      return;
    case 'preview': {
      db.exec('BEGIN');
      const statement = prepare(message.sql);
      const read = tables;
      const rows: Row[] = [];
      let bytes = 0;
      let bytesLimited = false;
      cutCells = 0;
      if (message.limit > 0) {
        for (const row of statement.iterate()) {
          const size = previewRow(row, message.cellChars);
          if (rows.length > 0 && bytes + size > message.maxBytes) {
            bytesLimited = true;
            break;
          }
          rows.push(row);
          bytes += size;
          if (rows.length >= message.limit) break;
        }
      }
      // The newline ends a trailing -- comment; the count statement passes the guard like any other.
      const count = guard.prepare(db, `SELECT count(*) FROM (${message.sql}\n)`).statement.pluck().get();
      db.exec('COMMIT');
      const columns = columnsOf(statement);
      send({
        kind: 'preview',
        columns,
        rows: rows as CellValue[][],
        totalRows: Number(count),
        tables: read,
        cutCells,
        bytesLimited,
        special,
      });
      special = false;
      return;
    }
    case 'open': {
      // One transaction for the whole read: every batch comes from the same snapshot.
      db.exec('BEGIN');
      const statement = prepare(message.sql, false);
      exportSql = message.sql;
      exactIntegers = false;
      rowsSent = 0;
      iterator = statement.iterate();
      names = statement.columns().map((column) => column.name);
      send({ kind: 'opened', columns: columnsOf(statement) });
      return;
    }
    case 'encoder':
      encoder = encoding.createEncoder(message.format, message.columns, message.options, message.metadata);
      send({ kind: 'encoder' });
      return;
    case 'next': {
      if (!iterator) throw new Error('No query is open.');
      const rows: Row[] = [];
      let done = false;
      let bytes = 0;
      while (rows.length < message.batchSize && bytes < message.batchBytes) {
        const next: IteratorResult<Row> = iterator.next();
        if (next.done) {
          done = true;
          break;
        }
        bytes += rowBytes(next.value, message.maxCellBytes);
        if (!exactIntegers && mayHaveLostDigits(next.value)) {
          iterator.return?.();
          exactIntegers = true;
          iterator = prepare(exportSql, true).iterate();
          for (let skipped = 0; skipped < rowsSent; skipped++) iterator.next();
          rows.length = 0;
          bytes = 0;
          continue;
        }
        // Rows this process encodes keep their driver values: the encoder reads BigInt and Buffer.
        rows.push(message.encode ? next.value : toRow(next.value));
      }
      rowsSent += rows.length;
      if (message.encode) {
        const text = encoder!.batch(rows as CellValue[][]);
        send({ kind: 'encoded', text, rows: rows.length, done, bigIntegerColumns: encoder!.bigIntegerColumns() });
        return;
      }
      encoder?.skip(rows.length);
      send({ kind: 'batch', rows: rows as CellValue[][], done, special });
      special = false;
      return;
    }
  }
}

process.on('message', (message: QueryRequest) => {
  try {
    answer(message);
  } catch (error) {
    const refused = Boolean((error as { refused?: boolean } | null)?.refused);
    send({ kind: 'error', message: error instanceof Error ? error.message : String(error), refused });
  }
});
send({ kind: 'ready' });
