import type { DataSource, QueryColumn } from '../query/data-source';
import type { SqlDialect } from '../query/guard';
import { allowedTables } from '../query/service';
import { log } from '../log';

// What the offline reader knows of a data source: its tables, their columns with a role, and for
// text columns with few distinct values, those values. Read through the data source like any query
// (so the guard applies), from a bounded sample, cached and refreshed in the background.

export type ColumnRole = 'id' | 'number' | 'date' | 'text' | 'other';

export interface CatalogColumn {
  name: string;
  role: ColumnRole;
  /** The distinct values of a low-cardinality text column (from a sample), else null. */
  values: string[] | null;
}

export interface CatalogTable {
  name: string;
  columns: CatalogColumn[];
}

export interface SchemaCatalog {
  dialect: SqlDialect;
  tables: CatalogTable[];
}

/** Rows read per column to find its distinct values; at most this many values make it low-cardinality. */
const SAMPLE_ROWS = 5_000;
const MAX_VALUES = 40;
const REFRESH_MS = 10 * 60_000;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_NAME = /(?:_at|_on|_date|_time|^date|^time|timestamp|^day)$/i;

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function roleOf(column: QueryColumn, sample: string[]): ColumnRole {
  const name = column.name.toLowerCase();
  if (column.kind === 'timestamp' || column.kind === 'date') return 'date';
  if (name === 'id' || name.endsWith('_id')) return 'id';
  if (column.kind === 'integer' || column.kind === 'decimal' || column.kind === 'float') return 'number';
  if (column.kind === 'text' || column.kind === 'unknown') {
    if (sample.length > 0 && sample.every((value) => ISO_DATE.test(value))) return 'date';
    if (sample.length === 0 && DATE_NAME.test(name)) return 'date';
    return 'text';
  }
  return 'other';
}

async function readTable(dataSource: DataSource, table: string): Promise<CatalogTable> {
  const quotedTable = quoteIdentifier(table);
  const { columns } = await dataSource.preview(`SELECT * FROM ${quotedTable} LIMIT 0`, 0);
  const read: CatalogColumn[] = [];
  for (const column of columns) {
    let sample: string[] = [];
    if (column.kind === 'text' || column.kind === 'unknown') {
      const quoted = quoteIdentifier(column.name);
      const preview = await dataSource.preview(
        `SELECT DISTINCT ${quoted} FROM (SELECT ${quoted} FROM ${quotedTable} LIMIT ${SAMPLE_ROWS}) AS sample WHERE ${quoted} IS NOT NULL LIMIT ${MAX_VALUES + 1}`,
        MAX_VALUES + 1,
      );
      sample = preview.rows.map((row) => String(row[0]));
    }
    const role = roleOf(column, sample);
    read.push({
      name: column.name,
      role,
      values: role === 'text' && sample.length > 0 && sample.length <= MAX_VALUES ? sample : null,
    });
  }
  return { name: table, columns: read };
}

/** Reads the catalog now: every allowed table's columns and sampled values. */
export async function readCatalog(dataSource: DataSource): Promise<SchemaCatalog> {
  const tables = await allowedTables(dataSource);
  const read: CatalogTable[] = [];
  for (const table of tables) read.push(await readTable(dataSource, table));
  return { dialect: dataSource.dialect, tables: read };
}

const cached = new WeakMap<DataSource, { catalog: Promise<SchemaCatalog>; readAt: number }>();

/**
 * The data source's catalog, read once and refreshed in the background every ten minutes (new
 * values appear without a restart; a refresh that fails keeps the last catalog).
 */
export function schemaCatalog(dataSource: DataSource): Promise<SchemaCatalog> {
  const entry = cached.get(dataSource);
  if (!entry) {
    const catalog = readCatalog(dataSource);
    cached.set(dataSource, { catalog, readAt: Date.now() });
    catalog.catch(() => cached.delete(dataSource));
    return catalog;
  }
  if (Date.now() - entry.readAt > REFRESH_MS) {
    entry.readAt = Date.now();
    readCatalog(dataSource).then(
      (fresh) => cached.set(dataSource, { catalog: Promise.resolve(fresh), readAt: Date.now() }),
      (error: unknown) => log.warn({ err: error }, 'could not refresh the schema catalog: keeping the last one'),
    );
  }
  return entry.catalog;
}
