// Exports streaming in this process, so "cancel" can stop them. Each entry aborts its cursor; the
// download then ends early and the export is recorded as cancelled. (One process's registry: the
// multi-instance deployment moves this to the job queue.)
interface RunningExport {
  userId: string;
  chatId: string | null;
  abort: AbortController;
}

const running = new Map<string, RunningExport>();

export function registerRunningExport(exportId: string, entry: RunningExport): () => void {
  running.set(exportId, entry);
  return () => running.delete(exportId);
}

/** Aborts the user's running exports of one chat; returns their ids. */
export function abortChatExports(userId: string, chatId: string): string[] {
  const aborted: string[] = [];
  for (const [exportId, entry] of running) {
    if (entry.userId === userId && entry.chatId === chatId) {
      entry.abort.abort();
      aborted.push(exportId);
    }
  }
  return aborted;
}
