import type { DataSource, QueryColumn } from '../query/data-source';
import type { SqlDialect } from '../query/guard';
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

/** Text columns sampled per statement: their samples come back together, within one preview. */
const COLUMNS_PER_SAMPLE = 20;

/**
 * Up to MAX_VALUES + 1 distinct values of each text column, from its table's first SAMPLE_ROWS rows:
 * one UNION ALL statement for many columns (a statement costs a query process on SQLite), run
 * through the guard like any query.
 */
async function sampleValues(
  dataSource: DataSource,
  columns: Array<{ table: string; column: string }>,
): Promise<Map<string, string[]>> {
  const samples = new Map<string, string[]>();
  for (let start = 0; start < columns.length; start += COLUMNS_PER_SAMPLE) {
    const batch = columns.slice(start, start + COLUMNS_PER_SAMPLE);
    const sql = batch
      .map(({ table, column }, index) => {
        const quoted = quoteIdentifier(column);
        return `SELECT ${index} AS "column_index", "value" FROM (SELECT DISTINCT CAST(${quoted} AS TEXT) AS "value" FROM (SELECT ${quoted} FROM ${quoteIdentifier(table)} LIMIT ${SAMPLE_ROWS}) AS "rows" WHERE ${quoted} IS NOT NULL LIMIT ${MAX_VALUES + 1}) AS "sample_${index}"`;
      })
      .join(' UNION ALL ');
    const preview = await dataSource.preview(sql, batch.length * (MAX_VALUES + 1));
    for (const [index, value] of preview.rows) {
      const { table, column } = batch[Number(index)]!;
      const key = `${table}.${column}`;
      samples.set(key, [...(samples.get(key) ?? []), String(value)]);
    }
  }
  return samples;
}

/** Reads the catalog now: every allowed table's columns (one round trip) and sampled text values. */
export async function readCatalog(dataSource: DataSource): Promise<SchemaCatalog> {
  const described = await dataSource.describeTables();
  const textColumns = described.flatMap(({ table, columns }) =>
    columns
      .filter((column) => column.kind === 'text' || column.kind === 'unknown')
      .map((column) => ({ table, column: column.name })),
  );
  const samples = await sampleValues(dataSource, textColumns);
  const tables = described.map(({ table, columns }) => ({
    name: table,
    columns: columns.map((column) => {
      const sample = samples.get(`${table}.${column.name}`) ?? [];
      const role = roleOf(column, sample);
      return {
        name: column.name,
        role,
        values: role === 'text' && sample.length > 0 && sample.length <= MAX_VALUES ? sample : null,
      };
    }),
  }));
  return { dialect: dataSource.dialect, tables };
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
