import { readdirSync, readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isPostgresUrl, sqlitePathFromUrl } from '../env';

// Plain SQL migrations, one folder per provider, applied in name order and recorded in
// _askport_migrations. Prisma's own migrate needs a schema engine that cannot be fetched offline, so
// this small runner applies the same kind of files on both providers without it.
export type Provider = 'sqlite' | 'postgresql';

export interface Migration {
  name: string;
  sql: string;
}

const migrationsRoot = path.join(process.cwd(), 'prisma', 'migrations');

export function loadMigrations(provider: Provider): Migration[] {
  const dir = path.join(migrationsRoot, provider);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => ({ name: file.replace(/\.sql$/, ''), sql: readFileSync(path.join(dir, file), 'utf8') }));
}

/** Applies pending migrations; returns the names applied now. Safe to call from several processes. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  return isPostgresUrl(databaseUrl) ? migratePostgres(databaseUrl) : migrateSqlite(sqlitePathFromUrl(databaseUrl));
}

function migrateSqlite(file: string): string[] {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 10_000 });
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE IF NOT EXISTS "_askport_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TEXT NOT NULL)');
    const applied: string[] = [];
    const isApplied = db.prepare('SELECT 1 FROM "_askport_migrations" WHERE "name" = ?');
    const record = db.prepare('INSERT INTO "_askport_migrations" ("name", "appliedAt") VALUES (?, ?)');
    for (const migration of loadMigrations('sqlite')) {
      // IMMEDIATE takes the write lock first, so two processes starting together apply each file once.
      db.transaction(() => {
        if (isApplied.get(migration.name)) return;
        db.exec(migration.sql);
        record.run(migration.name, new Date().toISOString());
        applied.push(migration.name);
      }).immediate();
    }
    return applied;
  } finally {
    db.close();
  }
}

// Any constant works; it only has to be the same in every process migrating this database.
const MIGRATION_LOCK_KEY = 4_212_007;

async function migratePostgres(url: string): Promise<string[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS "_askport_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await client.query<{ name: string }>('SELECT "name" FROM "_askport_migrations"')).rows.map((row) => row.name),
    );
    const applied: string[] = [];
    for (const migration of loadMigrations('postgresql')) {
      if (done.has(migration.name)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO "_askport_migrations" ("name") VALUES ($1)', [migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.name);
    }
    return applied;
  } finally {
    // Ignored: the lock ends with the connection anyway.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
