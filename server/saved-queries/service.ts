import type { SessionUser } from '../auth/service';
import type { AppDb } from '../db/client';
import { InvalidRequestError, NotFoundError } from '../errors';

function duplicateName(name: string): InvalidRequestError {
  return new InvalidRequestError(`You already have a saved query called "${name}". Choose another name.`);
}

/** Saves one of the user's query runs under a name. */
export async function saveQueryRun(db: AppDb, user: SessionUser, queryRunId: string, name: string) {
  const run = await db.queryRun.findFirst({ where: { id: queryRunId, userId: user.id } });
  if (!run) throw new NotFoundError('That query result');
  if (await db.savedQuery.findUnique({ where: { userId_name: { userId: user.id, name } } })) throw duplicateName(name);
  return db.savedQuery.create({ data: { userId: user.id, name, sql: run.sql } });
}

export function listSavedQueries(db: AppDb, user: SessionUser) {
  return db.savedQuery.findMany({
    where: { userId: user.id },
    orderBy: { name: 'asc' },
    select: { id: true, name: true, sql: true, updatedAt: true },
  });
}

export async function findSavedQuery(db: AppDb, user: SessionUser, id: string) {
  const saved = await db.savedQuery.findFirst({ where: { id, userId: user.id } });
  if (!saved) throw new NotFoundError('That saved query');
  return saved;
}

export async function renameSavedQuery(db: AppDb, user: SessionUser, id: string, name: string) {
  const saved = await findSavedQuery(db, user, id);
  if (saved.name === name) return saved;
  if (await db.savedQuery.findUnique({ where: { userId_name: { userId: user.id, name } } })) throw duplicateName(name);
  return db.savedQuery.update({ where: { id }, data: { name } });
}

export async function deleteSavedQuery(db: AppDb, user: SessionUser, id: string): Promise<void> {
  await findSavedQuery(db, user, id);
  await db.savedQuery.delete({ where: { id } });
}
