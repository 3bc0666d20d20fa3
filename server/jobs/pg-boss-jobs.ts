import PgBoss from 'pg-boss';
import { log } from '../log';
import type { AppServices, ExportJobs } from '../app-services';
import { claimExport, createExportJobCore, STALE_HEARTBEAT_MS, type ExportJobOptions } from './export-jobs';

// On PostgreSQL, export jobs go through pg-boss: any web instance queues them, and any process that
// works the queue (the web instances by default, `npm run worker` processes in a scale-out setup)
// runs them. A job whose process dies is retried by another once pg-boss sees it expire; the export's
// heartbeat tells a live job from a dead one, so an export never runs twice at the same time.
export const EXPORT_QUEUE = 'askport-export';
const RETRY = { retryLimit: 100_000, retryDelay: 2, expireInSeconds: 60 };
const STALE_SWEEP_MS = 5_000;

class NotNow extends Error {}

export function createPgBossExportJobs(
  app: AppServices,
  options: ExportJobOptions,
  config: { connectionString: string; work: boolean },
): ExportJobs {
  const core = createExportJobCore(app, options);
  const boss = new PgBoss({ connectionString: config.connectionString, schema: 'askport_jobs' });
  boss.on('error', (error) => log.error({ err: error }, 'pg-boss error'));
  let cleaner: NodeJS.Timeout | null = null;
  let sweeper: NodeJS.Timeout | null = null;

  async function offerAbandoned(): Promise<void> {
    const abandoned = await app.db.export.findMany({
      where: { status: 'running', delivery: 'file', heartbeatAt: { lt: new Date(Date.now() - STALE_HEARTBEAT_MS) } },
      select: { id: true },
    });
    for (const { id } of abandoned) {
      log.warn({ exportId: id }, 'export abandoned by its worker: offering it again');
      await boss.send(EXPORT_QUEUE, { exportId: id }, RETRY);
    }
  }

  /** The per-user limit holds across processes: one claim at a time per user (advisory lock). */
  async function claim(exportId: string): Promise<{ userId: string; chatId: string | null } | null> {
    return app.db.$transaction(async (tx) => {
      const record = await tx.export.findUnique({ where: { id: exportId } });
      if (!record) return null;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${record.userId}))`;
      const current = await tx.export.findUniqueOrThrow({ where: { id: exportId } });
      if (current.status === 'running') {
        // Still alive elsewhere: try again later. A stale heartbeat means its process died.
        if (current.heartbeatAt && Date.now() - current.heartbeatAt.getTime() < STALE_HEARTBEAT_MS)
          throw new NotNow('running elsewhere');
        await tx.export.update({ where: { id: exportId }, data: { status: 'queued', rowCount: null, bytes: null } });
      } else if (current.status !== 'queued') {
        return null; // finished, failed or cancelled: nothing to do
      }
      const claimed = await claimExport(
        { ...app, db: tx as unknown as AppServices['db'] },
        current,
        options.maxRunningPerUser,
      );
      if (!claimed) throw new NotNow('the user already has the maximum number of running exports');
      return { userId: current.userId, chatId: current.chatId };
    });
  }

  const ready = (async () => {
    await boss.start();
    // Ignored: the queue exists already when another process created it first.
    await boss.createQueue(EXPORT_QUEUE, { name: EXPORT_QUEUE, ...RETRY }).catch(() => undefined);
    if (!config.work) return;
    await boss.work<{ exportId: string }>(
      EXPORT_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: 0.5 },
      async ([job]) => {
        if (!job) return;
        const claimed = await claim(job.data.exportId);
        if (!claimed) return;
        await core.start(job.data.exportId, claimed.userId, claimed.chatId);
      },
    );
    // Ignored: cleanup runs again in a minute.
    cleaner = setInterval(() => void core.cleanup().catch(() => undefined), options.cleanupIntervalMs);
    cleaner.unref();
    // A process killed outright (kill -9, a lost machine) leaves its exports "running" with a heartbeat
    // that stops; offer those again now rather than when pg-boss expires the job (a minute).
    sweeper = setInterval(
      () =>
        void offerAbandoned().catch((error: unknown) =>
          log.error({ err: error }, 'could not check for abandoned exports'),
        ),
      STALE_SWEEP_MS,
    );
    sweeper.unref();
    log.info({ pid: process.pid, queue: EXPORT_QUEUE }, 'export worker ready');
  })();
  ready.catch((error: unknown) => log.error({ err: error }, 'pg-boss could not start'));

  return {
    ...core.jobs,
    enqueue(exportId) {
      if (!exportId) return;
      void ready
        .then(() => boss.send(EXPORT_QUEUE, { exportId }, RETRY))
        .catch((error: unknown) => log.error({ err: error, exportId }, 'could not queue the export'));
    },
    async close() {
      if (cleaner) clearInterval(cleaner);
      if (sweeper) clearInterval(sweeper);
      // Ignored: a start that failed has nothing to stop; its error was reported where it happened.
      await ready.catch(() => undefined);
      await core.stop();
      // Ignored: stopping is best effort on shutdown; jobs left running are retried by pg-boss.
      await boss.stop({ graceful: true, wait: true, timeout: 5_000 }).catch(() => undefined);
    },
  };
}
