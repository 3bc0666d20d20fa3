import { EventEmitter } from 'node:events';
import { EXPORT_FORMATS, exportDownloadPath, type ExportFormat } from '@/lib/export-request';
import { ACTIVE_EXPORT_STATUSES, isTerminal, type ExportProgress, type ExportStatus } from '@/lib/export-progress';
import type { Export } from '../db/client';
import { NotFoundError } from '../errors';
import { type ExportSink, type ExportWithContents, recordExportOutcome, runExport, withContents } from '../export/run';
import type { StoredFileWriter } from '../export/storage';
import { HISTORY_KEEP_PER_USER } from '@/lib/history';
import { log } from '../log';
import type { AppServices, ExportJobs } from '../app-services';

/** Export jobs: large exports written to export storage, with progress, cancel and expiry. */
export interface ExportJobOptions {
  maxRunningPerUser: number;
  maxRunning: number;
  fileTtlMs: number;
  progressIntervalMs: number;
  cleanupIntervalMs: number;
}

const PROGRESS_EVERY_ROWS = 1_000;

/** Retries a database write for about a minute (1 s, then 2 s apart), then gives up with its error. */
async function untilWritten<T>(write: () => Promise<T>, jobLog: typeof log, attempts = 30): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts) throw error;
      if (attempt === 1) jobLog.warn({ err: error }, 'could not record the export outcome yet: retrying');
      await new Promise((resolve) => setTimeout(resolve, attempt === 1 ? 1_000 : 2_000));
    }
  }
}

/** A running job whose heartbeat is older than this belongs to a process that died. */
export const STALE_HEARTBEAT_MS = 15_000;

export function progressOf(
  record: Export,
  rowsWritten = record.rowCount ?? 0,
  bytes = Number(record.bytes ?? 0n),
  now = Date.now(),
): ExportProgress {
  const total = record.totalRows;
  const status = record.status as ExportStatus;
  const done = status === 'succeeded';
  const percent = done ? 100 : total ? Math.min(99, Math.floor((rowsWritten / total) * 100)) : null;
  let etaSeconds: number | null = null;
  if (status === 'running' && total && rowsWritten > 0 && record.startedAt) {
    const elapsed = (now - record.startedAt.getTime()) / 1000;
    etaSeconds = Math.max(0, Math.round((elapsed / rowsWritten) * (total - rowsWritten)));
  }
  return {
    exportId: record.id,
    status,
    rowsWritten,
    totalRows: total,
    percent,
    etaSeconds,
    bytes,
    error: record.error,
    expiresAt: record.expiresAt,
    downloadUrl: exportDownloadPath(record.id),
  };
}

/**
 * What every runner shares: running one claimed export into storage with progress and cancel, the
 * cleanup of expired files, and cancelling from any process. Runners differ only in how a queued
 * export is claimed and started.
 */
export function createExportJobCore(app: AppServices, options: ExportJobOptions) {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  // This runner's jobs (the registry of app.running also holds streams, and other runners' jobs).
  const mine = new Map<string, { unregister: () => void }>();
  const active = new Set<Promise<void>>();
  // Set when this process stops: its running jobs go back to the queue instead of being cancelled.
  let shuttingDown = false;
  const publish = (progress: ExportProgress) => events.emit(progress.exportId, progress);

  /** Runs an export this process has claimed (status already "running"). */
  async function run(exportId: string, signal: AbortSignal): Promise<void> {
    const record = (await app.db.export.findUnique({
      where: { id: exportId },
      include: withContents,
    })) as ExportWithContents | null;
    if (!record) return;
    const startedAt = record.startedAt ?? new Date();
    const jobLog = log.child({
      exportId,
      userId: record.userId,
      format: record.format,
      archive: record.archive,
      delivery: 'file',
    });
    jobLog.info({ totalRows: record.totalRows, pid: process.pid }, 'export started');
    const key = `${record.id}.${record.archive ? 'zip' : EXPORT_FORMATS[record.format as ExportFormat].extension}`;
    let rows = 0;
    let bytes = 0;
    let publishedRows = 0;
    const report = () => {
      publishedRows = rows;
      publish(progressOf({ ...record, status: 'running', startedAt }, rows, bytes));
    };
    // At least every second (a slow query shows it is alive) and every 1,000 rows. The database gets
    // the progress and a heartbeat every second, and answers whether someone asked to cancel.
    let ticks = 0;
    const ticker = setInterval(() => {
      report();
      if (++ticks % 10 === 0) jobLog.info({ rowsWritten: rows, bytes }, 'export progress');
      void app.db.export
        .update({
          where: { id: exportId },
          data: { rowCount: rows, bytes: BigInt(bytes), heartbeatAt: new Date() },
          select: { cancelRequestedAt: true },
        })
        .then((state) => {
          if (state.cancelRequestedAt) app.running.abort(exportId);
        })
        // Ignored: a missed check is made again at the next tick.
        .catch(() => undefined);
    }, options.progressIntervalMs);
    ticker.unref();
    if (record.cancelRequestedAt) app.running.abort(exportId);
    let writer: StoredFileWriter | null = null;
    const file: ExportSink = {
      async write(chunk) {
        writer ??= await app.storage.create(key);
        await writer.write(chunk);
      },
      async commit() {
        writer ??= await app.storage.create(key);
        await writer.commit();
      },
      async discard() {
        await writer?.discard();
      },
    };
    const outcome = await runExport(app, record, file, {
      startedAt,
      signal,
      onProgress(rowsNow, bytesNow) {
        rows = rowsNow;
        bytes = bytesNow;
        if (rows - publishedRows >= PROGRESS_EVERY_ROWS) report();
      },
    });
    clearInterval(ticker);
    if (outcome.status === 'failed') jobLog.error({ err: outcome.failure, rowsWritten: outcome.rows }, 'export failed');
    if (
      shuttingDown &&
      outcome.status === 'cancelled' &&
      !(await app.db.export.findUnique({ where: { id: exportId } }))?.cancelRequestedAt
    ) {
      await app.db.export.update({
        where: { id: exportId },
        data: { status: 'queued', startedAt: null, heartbeatAt: null, rowCount: null, bytes: null },
      });
      jobLog.info('export returned to the queue: this process is stopping');
      // Failing the queue's job makes pg-boss hand it to another worker.
      throw new Error('returned to the queue at shutdown');
    }
    const succeeded = outcome.status === 'succeeded';
    const finishedAt = new Date();
    // The app database may be restarting right now (the data source's failure is often the same
    // outage): keep trying, so the outcome is recorded and the job does not stay "running".
    const updated = await untilWritten(
      () =>
        recordExportOutcome(app, exportId, outcome, {
          filePath: succeeded ? key : null,
          expiresAt: succeeded ? new Date(finishedAt.getTime() + options.fileTtlMs) : null,
        }),
      jobLog,
    );
    publish(progressOf(updated));
    if (outcome.status !== 'failed')
      jobLog.info({ status: outcome.status, rows, bytes, durationMs: updated.durationMs }, 'export finished');
  }

  /** Starts a claimed export; `stop()` waits for it. Rejects only when it went back to the queue. */
  function start(exportId: string, userId: string, chatId: string | null): Promise<void> {
    // Registered at once, so a cancel that arrives before the job's first row still finds it.
    const { signal, unregister } = app.running.register(exportId, { userId, chatId, delivery: 'file' });
    mine.set(exportId, { unregister });
    const task = run(exportId, signal)
      .catch((error: unknown) => {
        if (shuttingDown) throw error;
        log.error({ err: error, exportId }, 'export job crashed');
      })
      .finally(() => {
        unregister();
        mine.delete(exportId);
      });
    // Ignored: only to wait for the end; the failure is logged above.
    const settled = task.catch(() => undefined);
    active.add(settled);
    void settled.finally(() => active.delete(settled));
    return task;
  }

  async function cleanup(now = new Date()): Promise<number> {
    const expired = await app.db.export.findMany({
      where: { status: 'succeeded', delivery: 'file', expiresAt: { lte: now } },
    });
    for (const record of expired) {
      // Ignored: a file that cannot be removed now is tried again at the next cleanup (the record keeps its path).
      if (record.filePath) await app.storage.remove(record.filePath).catch(() => undefined);
      const updated = await app.db.export.update({
        where: { id: record.id },
        data: { status: 'expired', filePath: null },
      });
      publish(progressOf(updated));
    }
    await trimHistory();
    return expired.length;
  }

  /** Keeps the last HISTORY_KEEP_PER_USER exports per user; older finished ones go, with their files. */
  async function trimHistory(): Promise<void> {
    const crowded = await app.db.export.groupBy({
      by: ['userId'],
      _count: { _all: true },
      having: { userId: { _count: { gt: HISTORY_KEEP_PER_USER } } },
    });
    for (const { userId } of crowded) {
      const old = await app.db.export.findMany({
        where: { userId, status: { notIn: [...ACTIVE_EXPORT_STATUSES] } },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip: HISTORY_KEEP_PER_USER,
        select: { id: true, filePath: true },
      });
      // Ignored: as above: removed at a later cleanup.
      for (const record of old) if (record.filePath) await app.storage.remove(record.filePath).catch(() => undefined);
      await app.db.export.deleteMany({ where: { id: { in: old.map((record) => record.id) } } });
    }
  }

  /** Cancels a queued job at once; a running one here at once, elsewhere within a second. */
  async function cancelRecord(record: Export): Promise<boolean> {
    if (app.running.abort(record.id)) return true;
    const queued = await app.db.export.updateMany({
      where: { id: record.id, status: 'queued' },
      data: { status: 'cancelled', finishedAt: new Date() },
    });
    if (queued.count === 1) {
      publish(progressOf({ ...record, status: 'cancelled' }));
      return true;
    }
    const requested = await app.db.export.updateMany({
      where: { id: record.id, status: 'running' },
      data: { cancelRequestedAt: new Date() },
    });
    return requested.count === 1;
  }

  const jobs: Omit<ExportJobs, 'enqueue' | 'close'> = {
    async cancel(userId, exportId) {
      const record = await app.db.export.findFirst({ where: { id: exportId, userId } });
      if (!record) throw new NotFoundError('That export');
      if (isTerminal(record.status as ExportStatus)) return false;
      return cancelRecord(record);
    },
    subscribe(exportId, listener) {
      events.on(exportId, listener);
      return () => events.off(exportId, listener);
    },
    cleanup,
  };

  async function stop(): Promise<void> {
    shuttingDown = true;
    for (const exportId of mine.keys()) app.running.abort(exportId);
    await Promise.allSettled([...active]);
  }

  return { jobs, start, running: mine, cleanup, stop };
}

/** Claims a queued export for this process if its user is under the limit; true when claimed. */
export async function claimExport(
  app: AppServices,
  job: { id: string; userId: string },
  maxRunningPerUser: number,
): Promise<boolean> {
  const runningForUser = await app.db.export.count({
    where: { userId: job.userId, status: 'running', delivery: 'file' },
  });
  if (runningForUser >= maxRunningPerUser) return false;
  const claimed = await app.db.export.updateMany({
    where: { id: job.id, status: 'queued' },
    data: { status: 'running', startedAt: new Date(), heartbeatAt: new Date() },
  });
  return claimed.count === 1;
}

/** The in-process runner of the embedded default; it survives restarts through the database. */
export function createInProcessExportJobs(app: AppServices, options: ExportJobOptions): ExportJobs {
  const core = createExportJobCore(app, options);
  let pumping = false;
  let pumpAgain = false;
  let closed = false;

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
        const queued = await app.db.export.findMany({
          where: { status: 'queued', delivery: 'file' },
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
          take: 200,
        });
        // A user whose oldest queued job could not start waits in this pass: a later job of theirs
        // must not slip in when one of their running jobs ends between two claims.
        const waitingUsers = new Set<string>();
        for (const job of queued) {
          if (core.running.size >= options.maxRunning) break;
          if (waitingUsers.has(job.userId)) continue;
          // At most N running per user; the rest wait their turn, oldest first.
          if (!(await claimExport(app, job, options.maxRunningPerUser))) {
            waitingUsers.add(job.userId);
          } else {
            void core.start(job.id, job.userId, job.chatId).then(
              () => pump(),
              () => undefined,
            );
          }
        }
      } while (pumpAgain && !closed);
    } catch (error) {
      log.error({ err: error }, 'could not start queued exports');
    } finally {
      pumping = false;
    }
  }

  // A restart leaves nothing "running" forever: jobs start again from the beginning (their partial
  // files were never committed), and interrupted streams are marked failed.
  const recovered = (async () => {
    await app.db.export.updateMany({
      where: { status: 'running', delivery: 'file' },
      data: { status: 'queued', startedAt: null, rowCount: null, bytes: null },
    });
    await app.db.export.updateMany({
      where: { status: 'running', delivery: 'stream' },
      data: { status: 'failed', error: 'The server restarted during the download.', finishedAt: new Date() },
    });
    await pump();
  })().catch((error: unknown) => log.error({ err: error }, 'export recovery failed'));
  // Ignored: cleanup runs again in a minute.
  const cleaner = setInterval(() => void core.cleanup().catch(() => undefined), options.cleanupIntervalMs);
  cleaner.unref();

  return {
    ...core.jobs,
    enqueue: () => {
      void recovered.then(pump);
    },
    async close() {
      closed = true;
      clearInterval(cleaner);
      await recovered;
      await core.stop();
    },
  };
}
