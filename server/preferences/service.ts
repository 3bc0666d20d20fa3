import { DEFAULT_PREFERENCES, type Preferences, type PreferencesUpdate } from '@/lib/preferences';
import type { ExportFormat } from '@/lib/export-request';
import type { AppDb } from '../db/client';

function toPreferences(record: { defaultFormat: string | null; csvByteOrderMark: boolean; includeMetadata: boolean; neutraliseFormulas: boolean }): Preferences {
  return { defaultFormat: (record.defaultFormat as ExportFormat | null) ?? null, csvByteOrderMark: record.csvByteOrderMark, includeMetadata: record.includeMetadata, neutraliseFormulas: record.neutraliseFormulas };
}

/** The user's preferences, created with the defaults on first use. */
export async function getPreferences(db: AppDb, userId: string): Promise<Preferences> {
  const record = await db.exportPreference.upsert({ where: { userId }, create: { userId, ...DEFAULT_PREFERENCES }, update: {} });
  return toPreferences(record);
}

export async function updatePreferences(db: AppDb, userId: string, patch: PreferencesUpdate): Promise<Preferences> {
  const record = await db.exportPreference.upsert({ where: { userId }, create: { userId, ...DEFAULT_PREFERENCES, ...patch }, update: patch });
  return toPreferences(record);
}
