import { EXPORT_FORMATS, type ExportFormat } from '@/lib/export-request';
import { contentDisposition, exportFilename } from '@/lib/filename';
import type { SessionUser } from '../auth/service';
import type { Export } from '../db/client';
import { NotFoundError } from '../errors';
import { asUserFacing, checkSql } from '../query/service';
import type { AppServices } from '../services';
import { DEFAULT_ENCODER_OPTIONS, type EncoderOptions } from './encoders';
import { getEnv } from '../env';
import { checkExportRateLimit } from './rate-limit';
import { registerRunningExport } from './running';
import { encodeFile } from './stream';
import { zipQueryResults } from './zip';

export interface ExportDownload {
  exportId: string;
  filename: string;
  headers: Record<string, string>;
  body: ReadableStream<Uint8Array>;
}

/** Records an export of some of the user's query runs; every run must be theirs, or none is used. */
export async function createExport(app: AppServices, user: SessionUser, request: { queryRunIds: string[]; format: ExportFormat; archive: boolean; chatId: string | null }): Promise<Export> {
  const ids = [...new Set(request.queryRunIds)];
  const owned = await app.db.queryRun.count({ where: { id: { in: ids }, userId: user.id } });
  if (owned !== ids.length) throw new NotFoundError(ids.length === 1 ? 'That query result' : 'One of those query results');
  await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  return app.db.export.create({
    data: {
      userId: user.id,
      chatId: request.chatId,
      format: request.format,
      archive: request.archive || ids.length > 1,
      status: 'queued',
      items: { create: ids.map((queryRunId, index) => ({ queryRunId, position: index + 1 })) },
    },
  });
}

async function encoderOptionsFor(app: AppServices, user: SessionUser): Promise<EncoderOptions> {
  const preference = await app.db.exportPreference.findUnique({ where: { userId: user.id } });
  return preference ? { csvByteOrderMark: preference.csvByteOrderMark, neutraliseFormulas: preference.neutraliseFormulas, includeMetadata: preference.includeMetadata } : DEFAULT_ENCODER_OPTIONS;
}

/** Records a scripted export of SQL the user sent (POST /api/v1/exports); the guard runs first. */
export async function createSqlExport(app: AppServices, user: SessionUser, request: { sql: string; format: ExportFormat; title?: string }): Promise<Export> {
  const guarded = await checkSql(app.dataSource, request.sql);
  await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  return app.db.export.create({ data: { userId: user.id, format: request.format, status: 'queued', sql: guarded.sql, title: request.title ?? (guarded.tables.join(', ') || 'export') } });
}

/** Streams the whole result of one of the user's query runs (the suggested chips). */
export async function startQueryRunDownload(app: AppServices, user: SessionUser, queryRunId: string, format: ExportFormat): Promise<ExportDownload> {
  const record = await createExport(app, user, { queryRunIds: [queryRunId], format, archive: false, chatId: null });
  return startExportDownload(app, user, record.id);
}

/**
 * Streams one of the user's exports: one file, or a ZIP of several. The first query is opened before
 * this returns, so SQL errors surface as an error status rather than a broken file; rows are then
 * pulled from the cursor only as fast as the client reads, so memory stays flat at any row count.
 * Downloading an export again records a new export with the same contents.
 */
export async function startExportDownload(app: AppServices, user: SessionUser, exportId: string): Promise<ExportDownload> {
  const found = await app.db.export.findFirst({ where: { id: exportId, userId: user.id }, include: { items: { include: { queryRun: true }, orderBy: { position: 'asc' } }, chat: true } });
  if (!found) throw new NotFoundError('That export');
  const format = found.format as ExportFormat;
  const runs = found.items.map((item) => item.queryRun);
  // What the file holds: the chat's query runs, or the SQL of a scripted export.
  const members = found.sql ? [{ title: found.title ?? 'export', sql: found.sql }] : runs.map((run) => ({ title: run.title, sql: run.sql }));
  if (members.length === 0) throw new NotFoundError('That export');
  if (found.status !== 'queued') await checkExportRateLimit(app.db, user.id, getEnv().EXPORT_RATE_LIMIT_PER_MINUTE);
  const record =
    found.status === 'queued'
      ? found
      : await app.db.export.create({
          data: { userId: user.id, chatId: found.chatId, format, archive: found.archive, sql: found.sql, title: found.title, status: 'queued', items: { create: runs.map((run, index) => ({ queryRunId: run.id, position: index + 1 })) } },
        });
  const encoderOptions = await encoderOptionsFor(app, user);
  const started = Date.now();
  await app.db.export.update({ where: { id: record.id }, data: { status: 'running' } });

  let rowCount = 0;
  let bytes = 0;
  let settled = false;
  const abort = new AbortController();
  const unregister = registerRunningExport(record.id, { userId: user.id, chatId: found.chatId, abort });
  const finish = async (status: 'succeeded' | 'failed' | 'cancelled', error?: string) => {
    if (settled) return;
    settled = true;
    unregister();
    await closeSource().catch(() => undefined);
    await app.db.export
      .update({ where: { id: record.id }, data: { status, rowCount, bytes: BigInt(bytes), durationMs: Date.now() - started, finishedAt: new Date(), error: error ?? null } })
      .catch(() => undefined);
  };

  let chunks: AsyncGenerator<Uint8Array>;
  let filename: string;
  // A cursor opened here must be closed even if the client leaves before the first chunk is pulled.
  let closeSource: () => Promise<void> = async () => undefined;
  try {
    const guarded = await Promise.all(members.map((member) => checkSql(app.dataSource, member.sql)));
    if (found.archive) {
      const checked = members.map((member, index) => ({ title: member.title, sql: guarded[index]!.sql }));
      chunks = zipQueryResults(app.dataSource, checked, format, encoderOptions, abort.signal, (rows) => (rowCount += rows));
      filename = exportFilename(found.chat?.title ?? 'queries', 'zip', new Date(started));
    } else {
      const rows = await app.dataSource.stream(guarded[0]!.sql);
      closeSource = () => rows.close();
      const metadata = { query: guarded[0]!.sql, title: members[0]!.title, generatedAt: new Date(started) };
      chunks = abortable(encodeFile(format, rows, encoderOptions, metadata, (count) => (rowCount += count)), abort.signal);
      filename = exportFilename(members[0]!.title, EXPORT_FORMATS[format].extension, new Date(started));
    }
  } catch (error) {
    const userFacing = asUserFacing(error);
    await finish('failed', userFacing instanceof Error ? userFacing.message : 'Export failed.');
    throw userFacing;
  }

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) {
            // Recorded before the stream ends, so whoever saw the whole file also sees the record.
            await finish('succeeded');
            controller.close();
            return;
          }
          bytes += next.value.byteLength;
          controller.enqueue(next.value);
        } catch (error) {
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
        await chunks.return(undefined).catch(() => undefined);
        await finish('cancelled');
      },
    },
    { highWaterMark: 1 },
  );

  const contentType = found.archive ? 'application/zip' : EXPORT_FORMATS[format].contentType;
  return {
    exportId: record.id,
    filename,
    body,
    headers: {
      'Content-Type': contentType,
      'Content-Disposition': contentDisposition(filename),
      // no-transform: no gzip on the way out. Compressing a large export costs more server time than
      // the export itself; a proxy in front may still compress if that suits the deployment.
      'Cache-Control': 'no-store, no-transform',
      'X-Content-Type-Options': 'nosniff',
    },
  };
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
