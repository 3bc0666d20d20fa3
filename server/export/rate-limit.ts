import type { AppDb } from '../db/client';
import { RateLimitedError } from '../errors';

const WINDOW_MS = 60_000;

/**
 * At most `limit` exports a minute per user, counted from the export records themselves, so every
 * web instance sees the same count.
 */
export async function checkExportRateLimit(db: AppDb, userId: string, limit: number, now = new Date()): Promise<void> {
  const since = new Date(now.getTime() - WINDOW_MS);
  const recent = await db.export.findMany({
    where: { userId, createdAt: { gt: since } },
    orderBy: { createdAt: 'asc' },
    select: { createdAt: true },
    take: limit,
  });
  if (recent.length < limit) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((recent[0]!.createdAt.getTime() + WINDOW_MS - now.getTime()) / 1000));
  throw new RateLimitedError(
    retryAfterSeconds,
    `You have started ${limit} exports in the last minute. Try again in ${retryAfterSeconds} s.`,
  );
}
