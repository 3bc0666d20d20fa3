import type { ExportProgress } from '@/lib/export-progress';
import { isTerminal } from '@/lib/export-progress';
import { NotFoundError } from '../errors';
import type { AppServices } from '../app-services';
import { progressOf } from './export-jobs';

export async function currentProgress(app: AppServices, userId: string, exportId: string): Promise<ExportProgress> {
  const record = await app.db.export.findFirst({ where: { id: exportId, userId } });
  if (!record) throw new NotFoundError('That export');
  return progressOf(record);
}

/**
 * Progress of one of the user's exports until it ends: events from this process's runner as they
 * happen, and the database's state at least every second (a runner in another process writes it).
 */
export async function* followProgress(
  app: AppServices,
  userId: string,
  exportId: string,
  signal?: AbortSignal,
  pollMs = 1_000,
): AsyncGenerator<ExportProgress> {
  let latest = await currentProgress(app, userId, exportId);
  yield latest;
  let pending: ExportProgress | null = null;
  let wake: (() => void) | null = null;
  const unsubscribe = app.jobs.subscribe(exportId, (progress) => {
    pending = progress;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!isTerminal(latest.status) && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs).unref?.();
      });
      wake = null;
      if (signal?.aborted) return;
      const next: ExportProgress = pending ?? (await currentProgress(app, userId, exportId));
      pending = null;
      if (
        next.status !== latest.status ||
        next.rowsWritten !== latest.rowsWritten ||
        next.bytes !== latest.bytes ||
        next.etaSeconds !== latest.etaSeconds
      ) {
        latest = next;
        yield latest;
      }
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
