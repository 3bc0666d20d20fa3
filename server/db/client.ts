import { getEnv, isPostgresUrl, sqlitePathFromUrl } from '../env';
import type { PrismaClient as SqlitePrismaClient } from './generated/sqlite/client';
import { migrate } from './migrate';

// Both generated clients come from one schema, so their model APIs are the same; code is typed
// against the SQLite one.
export type AppDb = SqlitePrismaClient;
export type { Chat, Export, Message, QueryRun, User } from './generated/sqlite/client';

/** Opens the app database at `url` after applying pending migrations. */
export async function openAppDb(url: string): Promise<AppDb> {
  await migrate(url);
  // Only the provider in use is loaded: each client with its driver costs the server memory.
  if (isPostgresUrl(url)) {
    const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
      import('./generated/postgresql/client'),
      import('@prisma/adapter-pg'),
    ]);
    return new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as AppDb;
  }
  const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
    import('./generated/sqlite/client'),
    import('@prisma/adapter-better-sqlite3'),
  ]);
  return new PrismaClient({
    adapter: new PrismaBetterSqlite3({ url: `file:${sqlitePathFromUrl(url)}`, timeout: 10_000 }),
  });
}

// One client per process; kept on globalThis so Next's dev reloads do not open a new one each time.
const holder = globalThis as unknown as { askportAppDb?: Promise<AppDb> };

export function getAppDb(): Promise<AppDb> {
  holder.askportAppDb ??= openAppDb(getEnv().databaseUrl).catch((error: unknown) => {
    holder.askportAppDb = undefined;
    throw error;
  });
  return holder.askportAppDb;
}
