import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openAppDb } from '@/server/db/client';
import { loadMigrations, migrate } from '@/server/db/migrate';
import { createPostgresDatabase, tempDir } from '../helpers/databases';

const EXPECTED_TABLES = [
  'ApiToken',
  'Chat',
  'Export',
  'ExportItem',
  'ExportPreference',
  'Message',
  'QueryRun',
  'SavedQuery',
  'Session',
  'User',
];

const temp = tempDir();
const cleanups: Array<() => Promise<void> | void> = [() => temp.remove()];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function emptyDatabase(provider: 'sqlite' | 'postgresql'): Promise<string> {
  if (provider === 'sqlite') return `file:${path.join(temp.dir, `app-${Math.random().toString(36).slice(2)}.db`)}`;
  const database = await createPostgresDatabase();
  cleanups.push(database.drop);
  return database.url;
}

async function tableNames(provider: 'sqlite' | 'postgresql', url: string): Promise<string[]> {
  if (provider === 'sqlite') {
    const db = new Database(url.replace(/^file:/, ''), { readonly: true });
    const names = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    db.close();
    return names;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const result = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  await client.end();
  return result.rows.map((row) => row.table_name);
}

describe.each(['sqlite', 'postgresql'] as const)('app database on %s', (provider) => {
  it('applies every migration to an empty database, once', async () => {
    const url = await emptyDatabase(provider);
    const applied = await migrate(url);
    expect(applied).toEqual(loadMigrations(provider).map((migration) => migration.name));
    expect(await migrate(url)).toEqual([]);
    expect((await tableNames(provider, url)).sort()).toEqual([...EXPECTED_TABLES, '_askport_migrations'].sort());
  });

  it('applies migrations once when several processes start together', async () => {
    const url = await emptyDatabase(provider);
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    expect(results.flat()).toEqual(loadMigrations(provider).map((migration) => migration.name));
  });

  it('creates, reads, updates and deletes every model through Prisma', async () => {
    const db = await openAppDb(await emptyDatabase(provider));
    cleanups.push(() => db.$disconnect());
    const user = await db.user.create({ data: { email: 'crud@example.com', name: 'Crud', passwordHash: 'x' } });
    await db.session.create({ data: { tokenHash: 'hash', userId: user.id, expiresAt: new Date(Date.now() + 1000) } });
    const chat = await db.chat.create({ data: { userId: user.id, title: 'First chat' } });
    const run = await db.queryRun.create({
      data: { chatId: chat.id, userId: user.id, position: 1, sql: 'SELECT 1', title: 'q', rowCount: 1 },
    });
    await db.message.create({
      data: { chatId: chat.id, role: 'assistant', content: 'hi', payload: '{"kind":"error"}', queryRunId: run.id },
    });
    const exportRecord = await db.export.create({
      data: {
        userId: user.id,
        format: 'csv',
        status: 'running',
        bytes: 5_000_000_000n,
        items: { create: { queryRunId: run.id, position: 1 } },
      },
      include: { items: true },
    });
    await db.exportPreference.create({ data: { userId: user.id, defaultFormat: 'json' } });

    expect(exportRecord.bytes).toBe(5_000_000_000n);
    expect(exportRecord.items).toHaveLength(1);
    expect(await db.exportPreference.findUnique({ where: { userId: user.id } })).toMatchObject({
      defaultFormat: 'json',
      neutraliseFormulas: true,
      csvByteOrderMark: false,
    });
    await db.export.update({ where: { id: exportRecord.id }, data: { status: 'succeeded', rowCount: 1 } });
    expect((await db.export.findUniqueOrThrow({ where: { id: exportRecord.id } })).status).toBe('succeeded');
    await expect(
      db.queryRun.create({
        data: { chatId: chat.id, userId: user.id, position: 1, sql: 'SELECT 2', title: 'dup', rowCount: 0 },
      }),
    ).rejects.toThrow();
    await expect(
      db.user.create({ data: { email: 'crud@example.com', name: 'Dup', passwordHash: 'x' } }),
    ).rejects.toThrow();

    await db.user.delete({ where: { id: user.id } });
    expect(await db.chat.count()).toBe(0);
    expect(await db.message.count()).toBe(0);
    expect(await db.export.count()).toBe(0);
    expect(await db.session.count()).toBe(0);
  });
});
