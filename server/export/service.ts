import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { EXPORT_FORMATS, exportDownloadPath, type ExportFormat } from '@/lib/export-request';
import { contentDisposition, exportFilename } from '@/lib/filename';
import type { SessionUser } from '../auth/service';
import type { Chat, Export } from '../db/client';
import type { ExportItem, QueryRun } from '../db/generated/sqlite/client';
import { getEnv } from '../env';
import { InvalidRequestError, NotFoundError } from '../errors';
import { trimStatement } from '../query/guard';
import { asUserFacing, checkSql } from '../query/service';
import type { AppServices } from '../app-services';
import { getPreferences } from '../preferences/service';
import type { EncoderOptions } from './encoders';
import { log } from '../log';
import { checkExportRateLimit } from './rate-limit';
import { registerRunningExport } from './running';
import { openEncodedFile, type EncodedFile } from './stream';
import { zipQueryResults } from './zip';

export interface ExportDownload {
  exportId: string;
  filename: string;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
}

export type ExportWithContents = Export & { items: Array<ExportItem & { queryRun: QueryRun }>; chat: Chat | null };

const withContents = { items: { include: { queryRun: true }, orderBy: { position: 'asc' } }, chat: true } as const;

export type ExportDelivery = 'stream' | 'file';

/** The one stream-or-job rule: above EXPORT_JOB_THRESHOLD_ROWS an export becomes a job with progress and a kept file. */
export function deliveryFor(totalRows: number): ExportDelivery {
  return totalRows > getEnv().EXPORT_JOB_THRESHOLD_ROWS ? 'file' : 'stream';
}

/** What identifies "the same export": SQL, format, options and user. */
export function exportFingerprint(
  sqls: string[],
  format: ExportFormat,
  archive: boolean,
  options: EncoderOptions,
): string {
  return createHash('sha256').update(JSON.stringify({ sqls, format, archive, options })).digest('hex');
}

/** Records an export of some of the user's query runs; every run must be theirs, or none is used. */
export async function createExport(
  app: AppServices,
  user: SessionUser,
  request: {
    queryRunIds: string[];
    format: ExportFormat;
    archive: boolean;
    chatId: string | null;
    delivery?: ExportDelivery;
    totalRows?: number;
    fingerprint?: string;
    memberFormats?: Record<string, ExportFormat>;
  },
): Promise<Export> {
  const ids = [...new Set(request.queryRunIds)];
  const owned = await app.db.queryRun.count({ where: { id: { in: ids }, userId: user.id } });
  if (owned !== ids.length)
    throw new NotFoundError(ids.length === 1 ? 'That query result' : 'One of those query results');
  await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  return app.db.export.create({
    data: {
      userId: user.id,
      chatId: request.chatId,
      format: request.format,
      archive: request.archive || ids.length > 1,
      status: 'queued',
      delivery: request.delivery ?? 'stream',
      totalRows: request.totalRows ?? null,
      fingerprint: request.fingerprint ?? null,
      items: {
        create: ids.map((queryRunId, index) => ({
          queryRunId,
          position: index + 1,
          format: request.memberFormats?.[queryRunId] ?? null,
        })),
      },
    },
  });
}

/**
 * "Each its own": every query in the format it was last exported in, else the user's default, else
 * CSV. Returned per query run id.
 */
export async function ownFormats(
  app: AppServices,
  userId: string,
  queryRunIds: string[],
): Promise<Record<string, ExportFormat>> {
  const items = await app.db.exportItem.findMany({
    where: { queryRunId: { in: queryRunIds }, export: { userId } },
    include: { export: { select: { format: true, createdAt: true } } },
    orderBy: { export: { createdAt: 'desc' } },
  });
  const fallback = (await getPreferences(app.db, userId)).defaultFormat ?? 'csv';
  return Object.fromEntries(
    queryRunIds.map((id) => {
      const last = items.find((item) => item.queryRunId === id);
      return [id, ((last?.format ?? last?.export.format) as ExportFormat | undefined) ?? fallback];
    }),
  );
}

/** Records a scripted export of SQL the user sent (POST /api/v1/exports); the guard runs first. */
export async function createSqlExport(
  app: AppServices,
  user: SessionUser,
  request: { sql: string; format: ExportFormat; title?: string },
): Promise<Export> {
  const guarded = await checkSql(app.dataSource, request.sql);
  await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  return app.db.export.create({
    data: {
      userId: user.id,
      format: request.format,
      status: 'queued',
      sql: guarded.sql,
      title: request.title ?? (guarded.tables.join(', ') || 'export'),
    },
  });
}

export async function encoderOptionsFor(app: AppServices, userId: string): Promise<EncoderOptions> {
  const preferences = await getPreferences(app.db, userId);
  return {
    csvByteOrderMark: preferences.csvByteOrderMark,
    neutraliseFormulas: preferences.neutraliseFormulas,
    includeMetadata: preferences.includeMetadata,
  };
}

async function findExport(app: AppServices, userId: string, exportId: string): Promise<ExportWithContents> {
  const found = await app.db.export.findFirst({ where: { id: exportId, userId }, include: withContents });
  if (!found) throw new NotFoundError('That export');
  return found;
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

function exportFileInfo(
  record: Export & { chat: Chat | null; items: Array<{ queryRun: QueryRun }> },
  at: Date,
): { filename: string; contentType: string } {
  const format = record.format as ExportFormat;
  if (record.archive)
    return { filename: exportFilename(record.chat?.title ?? 'queries', 'zip', at), contentType: 'application/zip' };
  const title = record.title ?? record.items[0]?.queryRun.title ?? 'export';
  return {
    filename: exportFilename(title, EXPORT_FORMATS[format].extension, at),
    contentType: EXPORT_FORMATS[format].contentType,
  };
}

/** An export's bytes; closing it closes the cursor even if no chunk was ever read. */
export type OpenedExport = EncodedFile;

/**
 * Opens an export's contents: opens the first cursor (the data source guards the statement again and
 * reads the first rows), so SQL errors surface here rather than in the middle of a file. Chunks stop
 * once `signal` is aborted.
 */
export async function openExportContents(
  app: AppServices,
  record: ExportWithContents,
  options: EncoderOptions,
  startedAt: Date,
  signal: AbortSignal,
  onRows: (count: number) => void,
): Promise<OpenedExport> {
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
  const file = await openEncodedFile(app.dataSource, statements[0]!.sql, format, options, metadata, onRows);
  return { chunks: abortable(file.chunks, signal), close: file.close };
}

/** Stops between chunks once `signal` is aborted ("cancel" in the chat). */
async function* abortable(chunks: AsyncGenerator<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of chunks) {
      if (signal.aborted) throw signal.reason ?? new Error('aborted');
      yield chunk;
    }
  } finally {
    await chunks.return(undefined);
  }
}

function downloadHeaders(
  filename: string,
  contentType: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Disposition': contentDisposition(filename),
    // no-transform: no gzip on the way out. Compressing a large export costs more server time than
    // the export itself; a proxy in front may still compress if that suits the deployment.
    'Cache-Control': 'no-store, no-transform',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  };
}

/** Streams the whole result of one of the user's query runs (the suggested chips). */
export async function startQueryRunDownload(
  app: AppServices,
  user: SessionUser,
  queryRunId: string,
  format: ExportFormat,
): Promise<ExportDownload> {
  const record = await createExport(app, user, { queryRunIds: [queryRunId], format, archive: false, chatId: null });
  return startExportDownload(app, user, record.id);
}

/**
 * Delivers one of the user's exports. A job's finished file is served from export storage while it
 * lives; anything else streams from the data source: rows are pulled from the cursor only as fast as
 * the client reads, so memory stays flat at any row count. Streaming an export again records a new
 * export with the same contents.
 */
export async function startExportDownload(
  app: AppServices,
  user: SessionUser,
  exportId: string,
): Promise<ExportDownload> {
  const found = await findExport(app, user.id, exportId);
  if (found.delivery === 'file') return serveStoredFile(app, found);
  if (found.status !== 'queued') await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  const record = found.status === 'queued' ? found : await copyExport(app, found, { delivery: 'stream' });
  const options = await encoderOptionsFor(app, user.id);
  const startedAt = new Date();
  await app.db.export.update({ where: { id: record.id }, data: { status: 'running', startedAt } });

  let rowCount = 0;
  let bytes = 0;
  let settled = false;
  let opened: OpenedExport | null = null;
  const abort = new AbortController();
  const unregister = registerRunningExport(record.id, { userId: user.id, chatId: record.chatId, abort });
  const streamLog = log.child({
    exportId: record.id,
    userId: user.id,
    format: record.format,
    archive: record.archive,
    delivery: 'stream',
  });
  streamLog.info('export started');
  const finish = async (status: 'succeeded' | 'failed' | 'cancelled', error?: string) => {
    if (settled) return;
    settled = true;
    unregister();
    const fields = { status, rows: rowCount, bytes, durationMs: Date.now() - startedAt.getTime() };
    if (status === 'failed') streamLog.error({ ...fields, error }, 'export failed');
    else streamLog.info(fields, 'export finished');
    // Ignored: the export's outcome is decided already; its cursor ends with its process or connection.
    await opened?.close().catch(() => undefined);
    await app.db.export
      .update({
        where: { id: record.id },
        data: {
          status,
          rowCount,
          bytes: BigInt(bytes),
          durationMs: Date.now() - startedAt.getTime(),
          finishedAt: new Date(),
          error: error ?? null,
        },
      })
      // The download itself is unaffected; a record that cannot be written keeps its last state, so log why.
      .catch((failure: unknown) => streamLog.error({ err: failure, status }, 'could not record the export outcome'));
  };

  // The first piece is read before the response is made: a query that fails before its first row
  // answers with a status and a sentence, never a 200 followed by a cut-off file.
  let first: IteratorResult<Uint8Array> | null;
  try {
    opened = await openExportContents(app, record, options, startedAt, abort.signal, (count) => (rowCount += count));
    first = await opened.chunks.next();
  } catch (error) {
    const userFacing = asUserFacing(error);
    await finish('failed', userFacing instanceof Error ? userFacing.message : 'Export failed.');
    throw userFacing;
  }
  const chunks = opened.chunks;

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = first ?? (await chunks.next());
          first = null;
          if (next.done) {
            // Recorded before the stream ends, so whoever saw the whole file also sees the record.
            await finish('succeeded');
            controller.close();
            return;
          }
          bytes += next.value.byteLength;
          controller.enqueue(next.value);
        } catch (error) {
          // Ignored: the error below is the outcome; closing only releases the cursor.
          await chunks.return(undefined).catch(() => undefined);
          if (abort.signal.aborted) {
            await finish('cancelled');
            controller.error(new Error('The export was cancelled.'));
            return;
          }
          const userFacing = asUserFacing(error);
          await finish('failed', userFacing instanceof Error ? userFacing.message : 'Export failed.');
          controller.error(userFacing);
        }
      },
      async cancel() {
        // The client went away: stop the cursor and record why the file is incomplete.
        abort.abort();
        // Ignored: the export is cancelled either way.
        await chunks.return(undefined).catch(() => undefined);
        await finish('cancelled');
      },
    },
    { highWaterMark: 1 },
  );

  const { filename, contentType } = exportFileInfo(record, startedAt);
  return { exportId: record.id, filename, body, headers: downloadHeaders(filename, contentType) };
}

/** A job's file: served while it lives; anything else is explained in a sentence. */
async function serveStoredFile(app: AppServices, record: ExportWithContents): Promise<ExportDownload> {
  if (record.status === 'queued' || record.status === 'running')
    throw new InvalidRequestError('This export is still being prepared. It downloads as soon as it is ready.');
  if (record.status === 'failed')
    throw new InvalidRequestError(`This export failed: ${record.error ?? 'unknown error'}`);
  if (record.status === 'cancelled')
    throw new InvalidRequestError('This export was cancelled. Ask again to export it.');
  const expired =
    record.status === 'expired' ||
    !record.filePath ||
    (record.expiresAt !== null && record.expiresAt.getTime() <= Date.now());
  const file = expired ? null : await app.storage.open(record.filePath!);
  if (!file) throw new NotFoundError('That export file (files are kept for an hour)');
  const { filename, contentType } = exportFileInfo(record, record.finishedAt ?? record.createdAt);
  return {
    exportId: record.id,
    filename,
    body: Readable.toWeb(file.stream) as ReadableStream<Uint8Array>,
    headers: downloadHeaders(filename, contentType, { 'Content-Length': String(file.bytes) }),
  };
}

/** A new queued export with the same contents as `found` (same user, chat, format, members). */
function copyExport(
  app: AppServices,
  found: ExportWithContents,
  extra: { delivery: ExportDelivery; totalRows?: number | null; fingerprint?: string | null },
): Promise<ExportWithContents> {
  return app.db.export.create({
    data: {
      userId: found.userId,
      chatId: found.chatId,
      format: found.format,
      archive: found.archive,
      sql: found.sql,
      title: found.title,
      status: 'queued',
      ...extra,
      items: {
        create: found.items.map((item, index) => ({
          queryRunId: item.queryRunId,
          position: index + 1,
          format: item.format,
        })),
      },
    },
    include: withContents,
  }) as Promise<ExportWithContents>;
}

/** "Export again": the same contents and options, as a new export (a job again if it was one). */
export async function exportAgain(
  app: AppServices,
  user: SessionUser,
  exportId: string,
): Promise<{ exportId: string; delivery: ExportDelivery; downloadUrl: string }> {
  const found = await findExport(app, user.id, exportId);
  await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  const delivery: ExportDelivery = found.delivery === 'file' ? 'file' : 'stream';
  const record = await copyExport(app, found, { delivery, totalRows: found.totalRows, fingerprint: found.fingerprint });
  if (delivery === 'file') app.jobs.enqueue(record.id);
  return { exportId: record.id, delivery, downloadUrl: exportDownloadPath(record.id) };
}

/** Several of the user's query runs as one ZIP (history's "Export selected"); all must be theirs. */
export async function exportQueryRuns(
  app: AppServices,
  user: SessionUser,
  queryRunIds: string[],
  format: ExportFormat | 'own',
): Promise<{ exportId: string; delivery: ExportDelivery; downloadUrl: string }> {
  const runs = await app.db.queryRun.findMany({
    where: { id: { in: queryRunIds }, userId: user.id },
    select: { rowCount: true },
  });
  const total = runs.reduce((sum, run) => sum + run.rowCount, 0);
  const delivery = deliveryFor(total);
  const memberFormats = format === 'own' ? await ownFormats(app, user.id, queryRunIds) : undefined;
  const record = await createExport(app, user, {
    queryRunIds,
    format: format === 'own' ? (memberFormats?.[queryRunIds[0]!] ?? 'csv') : format,
    archive: true,
    chatId: null,
    delivery,
    totalRows: total,
    memberFormats,
  });
  if (delivery === 'file') app.jobs.enqueue(record.id);
  return { exportId: record.id, delivery, downloadUrl: exportDownloadPath(record.id) };
}
