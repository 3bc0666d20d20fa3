import type { ExportDelivery } from '@/lib/export-request';

/** An export running in this process: whose it is, where it was asked for, and how to stop it. */
export interface RunningExport {
  userId: string;
  chatId: string | null;
  delivery: ExportDelivery;
  abort: AbortController;
}

/**
 * The one registry of exports running in this process, streams and jobs alike: "cancel" aborts from
 * here, and the job runner counts its running jobs here. Other processes' jobs are reached through
 * the database (cancelRequestedAt), which their own registry's runner polls.
 */
export class RunningExports {
  readonly #entries = new Map<string, RunningExport>();

  /** Registers an export; the returned function unregisters it (only this entry, if replaced since). */
  register(exportId: string, entry: Omit<RunningExport, 'abort'>): { signal: AbortSignal; unregister: () => void } {
    const registered: RunningExport = { ...entry, abort: this.#entries.get(exportId)?.abort ?? new AbortController() };
    this.#entries.set(exportId, registered);
    return {
      signal: registered.abort.signal,
      unregister: () => {
        if (this.#entries.get(exportId) === registered) this.#entries.delete(exportId);
      },
    };
  }

  has(exportId: string): boolean {
    return this.#entries.has(exportId);
  }

  /** Aborts one export running here; false when it does not run in this process. */
  abort(exportId: string): boolean {
    const entry = this.#entries.get(exportId);
    entry?.abort.abort();
    return entry !== undefined;
  }

  /** Aborts the user's exports of one chat running here; returns their ids. */
  abortChat(userId: string, chatId: string): string[] {
    const aborted: string[] = [];
    for (const [exportId, entry] of this.#entries) {
      if (entry.userId !== userId || entry.chatId !== chatId) continue;
      entry.abort.abort();
      aborted.push(exportId);
    }
    return aborted;
  }

  /** Aborts everything of one delivery (a stopping process hands its jobs back to the queue). */
  abortAll(delivery: ExportDelivery): void {
    for (const entry of this.#entries.values()) if (entry.delivery === delivery) entry.abort.abort();
  }

  count(delivery: ExportDelivery): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.delivery === delivery) count++;
    return count;
  }
}
