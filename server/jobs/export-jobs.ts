import { EventEmitter } from 'node:events';
import { EXPORT_FORMATS, exportDownloadPath, type ExportFormat } from '@/lib/export-request';
import { isTerminal, type ExportProgress, type ExportStatus } from '@/lib/export-progress';
import type { Export } from '../db/client';
import { NotFoundError } from '../errors';
import { encoderOptionsFor, openExportContents, type ExportWithContents, type OpenedExport } from '../export/service';
import type { StoredFileWriter } from '../export/storage';
import { log } from '../log';
import { asUserFacing } from '../query/service';
import type { AppServices } from '../services';

/** Export jobs: large exports written to export storage, with progress, cancel and expiry. */
export interface ExportJobs {
  /** Something was queued: start what the limits allow. */
  enqueue(): void;
  /** Cancels one of the user's jobs; false when there was nothing to cancel. */
  cancel(userId: string, exportId: string): Promise<boolean>;
  /** Cancels the user's queued and running jobs of a chat; returns how many. */
  cancelChat(userId: string, chatId: string): Promise<number>;
  /** Progress events of one export in this process. */
  subscribe(exportId: string, listener: (progress: ExportProgress) => void): () => void;
  /** Removes expired files now (it also runs every minute). */
  cleanup(now?: Date): Promise<number>;
  close(): Promise<void>;
}

export interface ExportJobOptions {
  maxRunningPerUser: number;
  maxRunning: number;
  fileTtlMs: number;
  progressIntervalMs: number;
  cleanupIntervalMs: number;
}

const PROGRESS_EVERY_ROWS = 1_000;

export function progressOf(record: Export, rowsWritten = record.rowCount ?? 0, bytes = Number(record.bytes ?? 0n), now = Date.now()): ExportProgress {
  const total = record.totalRows;
  const status = record.status as ExportStatus;
  const done = status === 'succeeded';
  const percent = done ? 100 : total ? Math.min(99, Math.floor((rowsWritten / total) * 100)) : null;
  let etaSeconds: number | null = null;
  if (status === 'running' && total && rowsWritten > 0 && record.startedAt) {
    const elapsed = (now - record.startedAt.getTime()) / 1000;
    etaSeconds = Math.max(0, Math.round((elapsed / rowsWritten) * (total - rowsWritten)));
  }
  return { exportId: record.id, status, rowsWritten, totalRows: total, percent, etaSeconds, bytes, error: record.error, expiresAt: record.expiresAt, downloadUrl: exportDownloadPath(record.id) };
}

/** The in-process runner of the embedded default; it survives restarts through the database. */
export function createInProcessExportJobs(app: AppServices, options: ExportJobOptions): ExportJobs {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const running = new Map<string, { userId: string; chatId: string | null; abort: AbortController }>();
  const active = new Set<Promise<void>>();
  let pumping = false;
  let pumpAgain = false;
  let closed = false;

  const publish = (progress: ExportProgress) => events.emit(progress.exportId, progress);

  async function pump(): Promise<void> {
    if (closed) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        const queued = await app.db.export.findMany({ where: { status: 'queued', delivery: 'file' }, orderBy: { createdAt: 'asc' }, take: 200 });
        for (const job of queued) {
          if (running.size >= options.maxRunning) break;
          // At most N running per user; the rest wait their turn, oldest first.
          const runningForUser = await app.db.export.count({ where: { userId: job.userId, status: 'running', delivery: 'file' } });
          if (runningForUser >= options.maxRunningPerUser) continue;
          const claimed = await app.db.export.updateMany({ where: { id: job.id, status: 'queued' }, data: { status: 'running', startedAt: new Date() } });
          if (claimed.count === 1) {
            // Registered at once, so a cancel that arrives before the job's first row still finds it.
            running.set(job.id, { userId: job.userId, chatId: job.chatId, abort: new AbortController() });
            const task = run(job.id).catch((error: unknown) => console.error('[jobs] export job crashed', job.id, error));
            active.add(task);
            void task.finally(() => active.delete(task));
          }
        }
      } while (pumpAgain && !closed);
    } catch (error) {
      console.error('[jobs] could not start queued exports', error);
    } finally {
      pumping = false;
    }
  }

  async function run(exportId: string): Promise<void> {
    const abort = running.get(exportId)?.abort ?? new AbortController();
    const record = (await app.db.export.findUnique({ where: { id: exportId }, include: { items: { include: { queryRun: true }, orderBy: { position: 'asc' } }, chat: true } })) as ExportWithContents | null;
    if (!record) {
      running.delete(exportId);
      return;
    }
    const startedAt = record.startedAt ?? new Date();
    const jobLog = log.child({ exportId, userId: record.userId, format: record.format, archive: record.archive, delivery: 'file' });
    jobLog.info({ totalRows: record.totalRows }, 'export started');
    const key = `${record.id}.${record.archive ? 'zip' : EXPORT_FORMATS[record.format as ExportFormat].extension}`;
    let rows = 0;
    let bytes = 0;
    let publishedRows = 0;
    const report = () => {
      publishedRows = rows;
      publish(progressOf({ ...record, status: 'running', startedAt }, rows, bytes));
    };
    // At least every second (a slow query shows it is alive) and every 1,000 rows.
    let ticks = 0;
    const ticker = setInterval(() => {
      report();
      if (++ticks % 10 === 0) jobLog.info({ rowsWritten: rows, bytes }, 'export progress');
      void app.db.export.update({ where: { id: exportId }, data: { rowCount: rows, bytes: BigInt(bytes) } }).catch(() => undefined);
    }, options.progressIntervalMs);
    ticker.unref();
    let writer: StoredFileWriter | null = null;
    let opened: OpenedExport | null = null;
    let outcome: { status: ExportStatus; error: string | null };
    try {
      const encoderOptions = await encoderOptionsFor(app, record.userId);
      if (abort.signal.aborted) throw new Error('cancelled before it started');
      writer = await app.storage.create(key);
      opened = await openExportContents(app, record, encoderOptions, startedAt, abort.signal, (count) => {
        rows += count;
        if (rows - publishedRows >= PROGRESS_EVERY_ROWS) report();
      });
      for await (const chunk of opened.chunks) {
        bytes += chunk.byteLength;
        await writer.write(chunk);
      }
      await writer.commit();
      writer = null;
      outcome = { status: 'succeeded', error: null };
    } catch (error) {
      await writer?.discard().catch(() => undefined);
      const userFacing = asUserFacing(error);
      outcome = abort.signal.aborted ? { status: 'cancelled', error: null } : { status: 'failed', error: userFacing instanceof Error && userFacing.name !== 'Error' ? userFacing.message : 'The export failed. Please try again.' };
      if (!abort.signal.aborted) jobLog.error({ err: error, rowsWritten: rows }, 'export failed');
    } finally {
      clearInterval(ticker);
      await opened?.close().catch(() => undefined);
      running.delete(exportId);
    }
    const finishedAt = new Date();
    const updated = await app.db.export.update({
      where: { id: exportId },
      data: {
        status: outcome.status,
        error: outcome.error,
        rowCount: rows,
        bytes: BigInt(bytes),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        finishedAt,
        filePath: outcome.status === 'succeeded' ? key : null,
        expiresAt: outcome.status === 'succeeded' ? new Date(finishedAt.getTime() + options.fileTtlMs) : null,
      },
    });
    publish(progressOf(updated));
    if (outcome.status !== 'failed') jobLog.info({ status: outcome.status, rows, bytes, durationMs: updated.durationMs }, 'export finished');
    void pump();
  }

  async function cleanup(now = new Date()): Promise<number> {
    const expired = await app.db.export.findMany({ where: { status: 'succeeded', delivery: 'file', expiresAt: { lte: now } } });
    for (const record of expired) {
      if (record.filePath) await app.storage.remove(record.filePath).catch(() => undefined);
      const updated = await app.db.export.update({ where: { id: record.id }, data: { status: 'expired', filePath: null } });
      publish(progressOf(updated));
    }
    return expired.length;
  }

  async function cancelRecord(record: Export): Promise<boolean> {
    const active = running.get(record.id);
    if (active) {
      active.abort.abort();
      return true;
    }
    const cancelled = await app.db.export.updateMany({ where: { id: record.id, status: 'queued' }, data: { status: 'cancelled', finishedAt: new Date() } });
    if (cancelled.count === 0) return false;
    publish(progressOf({ ...record, status: 'cancelled' }));
    return true;
  }

  // A restart leaves nothing "running" forever: jobs start again from the beginning (their partial
  // files were never committed), and interrupted streams are marked failed.
  const recovered = (async () => {
    await app.db.export.updateMany({ where: { status: 'running', delivery: 'file' }, data: { status: 'queued', startedAt: null, rowCount: null, bytes: null } });
    await app.db.export.updateMany({ where: { status: 'running', delivery: 'stream' }, data: { status: 'failed', error: 'The server restarted during the download.', finishedAt: new Date() } });
    await pump();
  })().catch((error: unknown) => console.error('[jobs] recovery failed', error));
  const cleaner = setInterval(() => void cleanup().catch(() => undefined), options.cleanupIntervalMs);
  cleaner.unref();

  return {
    enqueue: () => {
      void recovered.then(pump);
    },
    async cancel(userId, exportId) {
      const record = await app.db.export.findFirst({ where: { id: exportId, userId } });
      if (!record) throw new NotFoundError('That export');
      if (isTerminal(record.status as ExportStatus)) return false;
      return cancelRecord(record);
    },
    async cancelChat(userId, chatId) {
      const active = await app.db.export.findMany({ where: { userId, chatId, delivery: 'file', status: { in: ['queued', 'running'] } } });
      let count = 0;
      for (const record of active) if (await cancelRecord(record)) count++;
      return count;
    },
    subscribe(exportId, listener) {
      events.on(exportId, listener);
      return () => events.off(exportId, listener);
    },
    cleanup,
    async close() {
      closed = true;
      clearInterval(cleaner);
      for (const job of running.values()) job.abort.abort();
      await recovered;
      await Promise.allSettled([...active]);
    },
  };
}
