import { Readable } from 'node:stream';
import {
  EXPORT_FORMATS,
  type ExportDelivery,
  type ExportFormat,
  type ExportQueriesInput,
  exportDownloadPath,
} from '@/lib/export-request';
import { ACTIVE_EXPORT_STATUSES } from '@/lib/export-progress';
import { contentDisposition, exportFilename } from '@/lib/filename';
import type { AppServices } from '../app-services';
import type { SessionUser } from '../auth/service';
import type { Chat, Export } from '../db/client';
import type { QueryRun } from '../db/generated/sqlite/client';
import { getEnv } from '../env';
import { InvalidRequestError, NotFoundError } from '../errors';
import { log } from '../log';
import { getPreferences } from '../preferences/service';
import { planExport } from './plan';
import { checkExportRateLimit } from './rate-limit';
import {
  type ExportOutcome,
  type ExportSink,
  type ExportWithContents,
  recordExportOutcome,
  runExport,
  withContents,
} from './run';

export interface ExportDownload {
  exportId: string;
  filename: string;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
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

async function findExport(app: AppServices, userId: string, exportId: string): Promise<ExportWithContents> {
  const found = await app.db.export.findFirst({ where: { id: exportId, userId }, include: withContents });
  if (!found) throw new NotFoundError('That export');
  return found;
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

/** Streams the whole result of one of the user's query runs (a result's export chips, as a link). */
export async function startQueryRunDownload(
  app: AppServices,
  user: SessionUser,
  queryRunId: string,
  format: ExportFormat,
): Promise<ExportDownload> {
  const plan = await planExport(app, user, {
    contents: { queryRunIds: [queryRunId] },
    format,
    archive: false,
    chatId: null,
    streamOnly: true,
  });
  return startExportDownload(app, user, plan.record.id);
}

/** Streams SQL sent through the API (POST /api/v1/exports); the guard runs first. */
export async function startSqlDownload(
  app: AppServices,
  user: SessionUser,
  request: { sql: string; format: ExportFormat; title?: string },
): Promise<ExportDownload> {
  const plan = await planExport(app, user, {
    contents: { sql: request.sql, title: request.title },
    format: request.format,
    archive: false,
    chatId: null,
    streamOnly: true,
  });
  return startExportDownload(app, user, plan.record.id);
}

/**
 * A ReadableStream that a running export writes into: `write` waits until the reader has taken the
 * previous piece, so rows leave the cursor only as fast as the client reads and memory stays flat.
 * `started` settles at the first piece; `closed` aborts when the client goes away.
 */
function responseSink(closed: AbortController, ended: () => Promise<unknown>) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let wake: (() => void) | null = null;
  const wakeWriter = () => {
    wake?.();
    wake = null;
  };
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  const body = new ReadableStream<Uint8Array>(
    {
      start: (streamController) => {
        controller = streamController;
      },
      pull: wakeWriter,
      cancel: async () => {
        // The client went away: stop the cursor, and wait until the run recorded it as cancelled.
        closed.abort();
        wakeWriter();
        await ended();
      },
    },
    { highWaterMark: 1 },
  );
  const sink: ExportSink = {
    async write(chunk) {
      if (closed.signal.aborted) throw new Error('The download was closed.');
      controller.enqueue(chunk);
      markStarted();
      while ((controller.desiredSize ?? 0) <= 0 && !closed.signal.aborted)
        await new Promise<void>((resolve) => (wake = resolve));
    },
  };
  return { body, sink, started, controller: () => controller };
}

/**
 * Delivers one of the user's exports. A job's finished file is served from export storage while it
 * lives; anything else streams from the data source as it is read. Streaming an export again records
 * a new export with the same contents and options.
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
  const startedAt = new Date();
  await app.db.export.update({ where: { id: record.id }, data: { status: 'running', startedAt } });
  const streamLog = log.child({
    exportId: record.id,
    userId: user.id,
    format: record.format,
    archive: record.archive,
    delivery: 'stream',
  });
  streamLog.info('export started');

  const { signal, unregister } = app.running.register(record.id, {
    userId: user.id,
    chatId: record.chatId,
    delivery: 'stream',
  });
  const closed = new AbortController();
  const cancelled = AbortSignal.any([signal, closed.signal]);
  const response = responseSink(closed, () => run);
  const run: Promise<ExportOutcome> = runExport(app, record, response.sink, { startedAt, signal: cancelled }).then(
    async (outcome) => {
      unregister();
      const fields = {
        status: outcome.status,
        rows: outcome.rows,
        bytes: outcome.bytes,
        durationMs: outcome.durationMs,
      };
      if (outcome.status === 'failed') streamLog.error({ ...fields, error: outcome.error }, 'export failed');
      else streamLog.info(fields, 'export finished');
      // Recorded before the stream ends, so whoever saw the whole file also sees the record. The
      // download itself is unaffected if it cannot be written; the record keeps its last state, so log why.
      await recordExportOutcome(app, record.id, outcome).catch((failure: unknown) =>
        streamLog.error({ err: failure, status: outcome.status }, 'could not record the export outcome'),
      );
      return outcome;
    },
  );
  void run.then((outcome) => {
    const controller = response.controller();
    // Ignored: a stream the client already cancelled cannot be closed or errored again.
    try {
      if (outcome.status === 'succeeded') controller.close();
      else if (outcome.status === 'cancelled') controller.error(new Error('The export was cancelled.'));
      else controller.error(outcome.failure);
    } catch {}
  });

  // The response is made once the first piece is ready: a query that fails before its first byte
  // answers with a status and a sentence, never a 200 followed by a cut-off file.
  const first = await Promise.race([response.started.then(() => null), run]);
  if (first && first.status !== 'succeeded')
    throw first.failure ?? new InvalidRequestError('The export was cancelled.');
  const { filename, contentType } = exportFileInfo(record, startedAt);
  return { exportId: record.id, filename, body: response.body, headers: downloadHeaders(filename, contentType) };
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
      options: found.options,
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
  format: ExportQueriesInput['format'],
): Promise<{ exportId: string; delivery: ExportDelivery; downloadUrl: string }> {
  const memberFormats = format === 'own' ? await ownFormats(app, user.id, queryRunIds) : undefined;
  const plan = await planExport(app, user, {
    contents: { queryRunIds, memberFormats },
    format: format === 'own' ? (memberFormats?.[queryRunIds[0]!] ?? 'csv') : format,
    archive: true,
    chatId: null,
  });
  return { exportId: plan.record.id, delivery: plan.delivery, downloadUrl: exportDownloadPath(plan.record.id) };
}

/**
 * "Cancel" in a chat: stops the user's exports of that chat, streams and jobs, running here or queued
 * or running in another process. Returns how many were stopped.
 */
export async function cancelChatExports(app: AppServices, userId: string, chatId: string): Promise<number> {
  const abortedHere = app.running.abortChat(userId, chatId);
  const elsewhere = await app.db.export.findMany({
    where: {
      userId,
      chatId,
      delivery: 'file',
      status: { in: [...ACTIVE_EXPORT_STATUSES] },
      id: { notIn: abortedHere },
    },
    select: { id: true },
  });
  let cancelled = abortedHere.length;
  for (const { id } of elsewhere) if (await app.jobs.cancel(userId, id)) cancelled++;
  return cancelled;
}
