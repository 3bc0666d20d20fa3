import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { getEnv, isPostgresUrl, sqlitePathFromUrl } from '../env';
import { PrismaClient as PostgresPrismaClient } from './generated/postgresql/client';
import { PrismaClient as SqlitePrismaClient } from './generated/sqlite/client';
import { migrate } from './migrate';

// Both generated clients come from one schema, so their model APIs are the same; code is typed
// against the SQLite one.
export type AppDb = SqlitePrismaClient;
export type { Chat, Export, Message, QueryRun, User } from './generated/sqlite/client';

/** Opens the app database at `url` after applying pending migrations. */
export async function openAppDb(url: string): Promise<AppDb> {
  await migrate(url);
  if (isPostgresUrl(url)) {
    const client = new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    return client as unknown as AppDb;
  }
  return new SqlitePrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${sqlitePathFromUrl(url)}`, timeout: 10_000 }) });
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
