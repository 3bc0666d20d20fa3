import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isPostgresUrl, sqlitePathFromUrl } from '../env';
import { demoTables, type DemoSizes, type DemoTable } from './demo-data';

/** Writes the demo data source at `url` (SQLite file or PostgreSQL), replacing what was there. */
export async function seedDemoData(url: string, sizes: DemoSizes): Promise<void> {
  if (isPostgresUrl(url)) await seedPostgres(url, sizes);
  else seedSqlite(sqlitePathFromUrl(url), sizes);
}

/** Seeds the demo data source only when it does not exist yet (first start). */
export async function ensureDemoData(url: string, sizes: DemoSizes): Promise<boolean> {
  if (isPostgresUrl(url)) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const found = await client.query(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'events'",
      );
      if (found.rowCount) return false;
    } finally {
      await client.end();
    }
  } else if (existsSync(sqlitePathFromUrl(url))) {
    return false;
  }
  await seedDemoData(url, sizes);
  return true;
}

function createTableSql(table: DemoTable, typeOf: (column: DemoTable['columns'][number]) => string): string {
  return `CREATE TABLE ${table.name} (${table.columns.map((column) => `${column.name} ${typeOf(column)}`).join(', ')})`;
}

function seedSqlite(file: string, sizes: DemoSizes): void {
  mkdirSync(path.dirname(file), { recursive: true });
  // Built beside the target and renamed over it, so readers never see a half-written file.
  const temporary = `${file}.seeding`;
  rmSync(temporary, { force: true });
  const db = new Database(temporary);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    for (const table of demoTables(sizes)) {
      db.exec(createTableSql(table, (column) => column.type));
      const insert = db.prepare(`INSERT INTO ${table.name} VALUES (${table.columns.map(() => '?').join(', ')})`);
      db.transaction(() => {
        for (const row of table.rows()) insert.run(row);
      })();
      for (const index of table.indexes) db.exec(index);
    }
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  renameSync(temporary, file);
}

const POSTGRES_ROWS_PER_INSERT = 1_000;

async function seedPostgres(url: string, sizes: DemoSizes): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const table of demoTables(sizes)) {
      await client.query(`DROP TABLE IF EXISTS ${table.name} CASCADE`);
      // Timestamps are real timestamptz columns on PostgreSQL; SQLite keeps ISO 8601 text.
      await client.query(
        createTableSql(table, (column) =>
          column.name.endsWith('_at') ? column.type.replace('TEXT', 'TIMESTAMPTZ') : column.type,
        ),
      );
      const width = table.columns.length;
      let batch: unknown[][] = [];
      const flush = async () => {
        if (batch.length === 0) return;
        const placeholders = batch.map(
          (_, rowIndex) =>
            `(${table.columns.map((_, columnIndex) => `$${rowIndex * width + columnIndex + 1}`).join(', ')})`,
        );
        await client.query(`INSERT INTO ${table.name} VALUES ${placeholders.join(', ')}`, batch.flat());
        batch = [];
      };
      for (const row of table.rows()) {
        batch.push(row);
        if (batch.length === POSTGRES_ROWS_PER_INSERT) await flush();
      }
      await flush();
      for (const index of table.indexes) await client.query(index);
    }
    await client.query('COMMIT');
  } catch (error) {
    // Ignored: the seeding error below is what matters; a failed ROLLBACK ends with the connection.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
