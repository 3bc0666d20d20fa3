import { EXPORT_FORMAT_NAMES, exportDownloadPath, type ExportFormat } from '@/lib/export-request';
import type { ExportStatus } from '@/lib/export-progress';
import type { HistoryFilter } from '@/lib/history';
import type { SessionUser } from '../auth/service';
import type { AppServices } from '../app-services';

export interface HistoryEntry {
  exportId: string;
  /** The chat it was asked for in; null when it came from the history page or the API. */
  chatId: string | null;
  title: string;
  format: ExportFormat;
  /** The formats of a ZIP's files (several when each has its own). */
  formats: ExportFormat[];
  archive: boolean;
  delivery: 'stream' | 'file';
  status: ExportStatus;
  rows: number | null;
  bytes: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  /** Set while a job's file can still be downloaded. */
  downloadUrl: string | null;
}

export interface FormatStats {
  format: ExportFormat;
  exports: number;
  medianMs: number;
  p95Ms: number;
  rowsPerSecond: number | null;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

type ExportRecordWithTitles = Awaited<ReturnType<typeof findWithTitles>>[number];

function findWithTitles(
  app: AppServices,
  where: NonNullable<Parameters<AppServices['db']['export']['findMany']>[0]>['where'],
  take: number,
) {
  return app.db.export.findMany({
    where,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take,
    include: {
      items: { include: { queryRun: { select: { title: true } } }, orderBy: { position: 'asc' } },
      chat: { select: { title: true } },
    },
  });
}

function toEntry(record: ExportRecordWithTitles, now: number): HistoryEntry {
  const titles = record.items.map((item) => item.queryRun.title);
  const title =
    record.title ?? (record.archive ? `${titles.length} queries: ${titles.join(', ')}` : (titles[0] ?? 'export'));
  const lives =
    record.delivery === 'file' &&
    record.status === 'succeeded' &&
    record.filePath !== null &&
    (record.expiresAt?.getTime() ?? 0) > now;
  return {
    exportId: record.id,
    chatId: record.chatId,
    title,
    format: record.format as ExportFormat,
    formats: [...new Set(record.items.map((item) => (item.format ?? record.format) as ExportFormat))],
    archive: record.archive,
    delivery: record.delivery === 'file' ? 'file' : 'stream',
    status: record.status as ExportStatus,
    rows: record.rowCount,
    bytes: record.bytes === null ? null : Number(record.bytes),
    durationMs: record.durationMs,
    error: record.error,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    downloadUrl: lives ? exportDownloadPath(record.id) : null,
  };
}

/**
 * Export jobs of this user that finished (succeeded or failed) after `after`, newest first: the chat
 * tells about them wherever they were started. Without `after`, none, and the server's time to ask
 * from next (the browser's clock may differ).
 */
export async function finishedExports(
  app: AppServices,
  user: SessionUser,
  after: Date | null,
): Promise<{ now: Date; entries: HistoryEntry[] }> {
  const now = new Date();
  if (!after) return { now, entries: [] };
  const records = await findWithTitles(
    app,
    { userId: user.id, delivery: 'file', status: { in: ['succeeded', 'failed'] }, finishedAt: { gt: after } },
    10,
  );
  return { now, entries: records.map((record) => toEntry(record, now.getTime())) };
}

/** The user's exports, newest first, filtered by status and format, with duration statistics. */
export async function exportHistory(
  app: AppServices,
  user: SessionUser,
  filter: HistoryFilter,
): Promise<{ entries: HistoryEntry[]; stats: FormatStats[] }> {
  const records = await findWithTitles(
    app,
    {
      userId: user.id,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.format ? { format: filter.format } : {}),
    },
    100,
  );
  const now = Date.now();
  const entries = records.map((record) => toEntry(record, now));

  const succeeded = await app.db.export.findMany({
    where: { userId: user.id, status: { in: ['succeeded', 'expired'] }, durationMs: { not: null } },
    select: { format: true, durationMs: true, rowCount: true },
  });
  const stats = EXPORT_FORMAT_NAMES.flatMap((format): FormatStats[] => {
    const ofFormat = succeeded.filter((record) => record.format === format);
    if (ofFormat.length === 0) return [];
    const durations = ofFormat.map((record) => record.durationMs ?? 0).sort((a, b) => a - b);
    const totalMs = durations.reduce((sum, value) => sum + value, 0);
    const totalRows = ofFormat.reduce((sum, record) => sum + (record.rowCount ?? 0), 0);
    return [
      {
        format,
        exports: ofFormat.length,
        medianMs: quantile(durations, 0.5),
        p95Ms: quantile(durations, 0.95),
        rowsPerSecond: totalMs > 0 ? Math.round((totalRows / totalMs) * 1000) : null,
      },
    ];
  });
  return { entries, stats };
}
