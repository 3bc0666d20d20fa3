import type { ExportFormat } from '@/lib/export-request';
import type { ExportStatus } from '@/lib/export-progress';
import type { AppServices } from '../app-services';
import type { Chat, Export } from '../db/client';
import type { ExportItem, QueryRun } from '../db/generated/sqlite/client';
import { NotFoundError, UserFacingError } from '../errors';
import { trimStatement } from '../query/guard';
import { asUserFacing } from '../query/service';
import type { EncoderOptions } from './encoders';
import { exportOptionsOf } from './plan';
import { openEncodedFile, type EncodedFile } from './stream';
import { zipQueryResults } from './zip';

// One run of a planned export, whatever receives the bytes: the HTTP response of a download, a job's
// file in export storage. The plan (the Export row) says what to write; the sink says where.

export type ExportWithContents = Export & { items: Array<ExportItem & { queryRun: QueryRun }>; chat: Chat | null };

export const withContents = {
  items: { include: { queryRun: true }, orderBy: { position: 'asc' } },
  chat: true,
} as const;

/** Where a running export's bytes go. `write` resolves when the sink can take more (backpressure). */
export interface ExportSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Every byte is written: make the file whole (a job moves its file into place). */
  commit?(): Promise<void>;
  /** The run ended early: drop what was written. */
  discard?(): Promise<void>;
}

export interface ExportOutcome {
  status: Extract<ExportStatus, 'succeeded' | 'failed' | 'cancelled'>;
  /** The sentence recorded for a failure, else null. */
  error: string | null;
  /** The failure as the person should see it (a user-facing error), for callers that answer with it. */
  failure: unknown;
  rows: number;
  bytes: number;
  durationMs: number;
}

const FAILED_MESSAGE = 'The export failed. Please try again.';
const STORAGE_FULL_MESSAGE =
  'The export storage is full, so the file could not be saved. Try again later, or ask an administrator to free space.';

/** The disk (or quota) of export storage ran out while the file was written. */
function isStorageFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** What the file holds: the chat's query runs, or the SQL of a scripted export, each with its format. */
function membersOf(record: ExportWithContents): Array<{ title: string; sql: string; format: ExportFormat }> {
  const format = record.format as ExportFormat;
  if (record.sql) return [{ title: record.title ?? 'export', sql: record.sql, format }];
  return record.items.map((item) => ({
    title: item.queryRun.title,
    sql: item.queryRun.sql,
    format: (item.format as ExportFormat | null) ?? format,
  }));
}

/**
 * Opens an export's contents: opens the first cursor (the data source guards the statement again and
 * reads the first rows), so SQL errors surface here rather than in the middle of a file. Chunks stop
 * once `signal` is aborted.
 */
async function openExportContents(
  app: AppServices,
  record: ExportWithContents,
  options: EncoderOptions,
  startedAt: Date,
  signal: AbortSignal,
  onRows: (count: number) => void,
): Promise<EncodedFile> {
  const members = membersOf(record);
  if (members.length === 0) throw new NotFoundError('That export');
  const format = record.format as ExportFormat;
  // The data source guards every statement as it opens it; trimming here keeps the metadata's SQL as run.
  const statements = members.map((member) => ({ ...member, sql: trimStatement(member.sql) }));
  if (record.archive)
    return {
      chunks: zipQueryResults(app.dataSource, statements, options, signal, onRows),
      close: async () => undefined,
    };
  const metadata = { query: statements[0]!.sql, title: members[0]!.title, generatedAt: startedAt };
  return openEncodedFile(app.dataSource, statements[0]!.sql, format, options, metadata, onRows);
}

/**
 * Runs one planned export into `sink` with the options it was planned with, and says how it ended; it
 * never throws. It stops between chunks once `signal` is aborted ("cancel", a closed download, a
 * stopping worker), and the cursor is closed whatever happens.
 */
export async function runExport(
  app: AppServices,
  record: ExportWithContents,
  sink: ExportSink,
  run: { startedAt: Date; signal: AbortSignal; onProgress?: (rows: number, bytes: number) => void },
): Promise<ExportOutcome> {
  let rows = 0;
  let bytes = 0;
  let opened: EncodedFile | null = null;
  const ended = (
    status: ExportOutcome['status'],
    error: string | null = null,
    failure: unknown = null,
  ): ExportOutcome => ({ status, error, failure, rows, bytes, durationMs: Date.now() - run.startedAt.getTime() });
  try {
    if (run.signal.aborted) throw new Error('cancelled before it started');
    opened = await openExportContents(app, record, exportOptionsOf(record), run.startedAt, run.signal, (count) => {
      rows += count;
      run.onProgress?.(rows, bytes);
    });
    for await (const chunk of opened.chunks) {
      if (run.signal.aborted) throw run.signal.reason ?? new Error('aborted');
      bytes += chunk.byteLength;
      await sink.write(chunk);
      run.onProgress?.(rows, bytes);
    }
    await sink.commit?.();
    return ended('succeeded');
  } catch (error) {
    // Ignored: the failure below is the outcome; a partial file left behind is removed by cleanup.
    await sink.discard?.().catch(() => undefined);
    if (run.signal.aborted) return ended('cancelled');
    const failure = isStorageFull(error) ? new UserFacingError(STORAGE_FULL_MESSAGE) : asUserFacing(error);
    return ended('failed', failure instanceof UserFacingError ? failure.message : FAILED_MESSAGE, failure);
  } finally {
    // Ignored: the outcome is decided already; the cursor ends with its process or connection anyway.
    await opened?.close().catch(() => undefined);
  }
}

/** Records how a run ended on its Export row; a job adds where its file is kept. */
export function recordExportOutcome(
  app: AppServices,
  exportId: string,
  outcome: ExportOutcome,
  extra: { filePath?: string | null; expiresAt?: Date | null } = {},
): Promise<Export> {
  return app.db.export.update({
    where: { id: exportId },
    data: {
      status: outcome.status,
      error: outcome.error,
      rowCount: outcome.rows,
      bytes: BigInt(outcome.bytes),
      durationMs: outcome.durationMs,
      finishedAt: new Date(),
      ...extra,
    },
  });
}
