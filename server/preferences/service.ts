import { DEFAULT_PREFERENCES, type Preferences, type PreferencesUpdate } from '@/lib/preferences';
import type { ExportFormat } from '@/lib/export-request';
import type { AppDb } from '../db/client';

function toPreferences(record: {
  defaultFormat: string | null;
  csvByteOrderMark: boolean;
  includeMetadata: boolean;
  neutraliseFormulas: boolean;
  jsonBigIntegersAsText: boolean;
}): Preferences {
  return {
    defaultFormat: (record.defaultFormat as ExportFormat | null) ?? null,
    csvByteOrderMark: record.csvByteOrderMark,
    includeMetadata: record.includeMetadata,
    neutraliseFormulas: record.neutraliseFormulas,
    jsonBigIntegersAsText: record.jsonBigIntegersAsText,
  };
}

/**
 * The user's preferences; the defaults while they have never saved any. Reading writes nothing: two
 * exports starting at once for a new user used to race to create the row, and one of them failed.
 */
export async function getPreferences(db: AppDb, userId: string): Promise<Preferences> {
  const record = await db.exportPreference.findUnique({ where: { userId } });
  return record ? toPreferences(record) : { ...DEFAULT_PREFERENCES };
}

/** Prisma's "unique constraint failed": someone else created the row between our read and insert. */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'P2002';
}

export async function updatePreferences(db: AppDb, userId: string, patch: PreferencesUpdate): Promise<Preferences> {
  const upsert = () =>
    db.exportPreference.upsert({
      where: { userId },
      create: { userId, ...DEFAULT_PREFERENCES, ...patch },
      update: patch,
    });
  try {
    return toPreferences(await upsert());
  } catch (error) {
    // Two saves at once for a user without a row: the loser updates the row the winner created.
    if (!isUniqueViolation(error)) throw error;
    return toPreferences(await upsert());
  }
}
