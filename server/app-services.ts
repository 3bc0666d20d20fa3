import type { ExportProgress } from '@/lib/export-progress';
import type { AppDb } from './db/client';
import type { RunningExports } from './export/running';
import type { ExportStorage } from './export/storage';
import type { DataSource } from './query/data-source';

// What use cases are given to work with. They receive these; only the wiring (services.ts, the
// CLI, the route handlers) builds them, so no use-case module imports the wiring.

/**
 * What services work with: the app database, the data source users query, export storage, the
 * exports running in this process (streams and jobs, for cancel) and the job runner.
 */
export interface AppServices {
  db: AppDb;
  dataSource: DataSource;
  storage: ExportStorage;
  running: RunningExports;
  jobs: ExportJobs;
}

/** Export jobs: queued, run under the per-user limits, cancelled, observed, cleaned up. */
export interface ExportJobs {
  /** An export was queued: start it when the limits allow. */
  enqueue(exportId?: string): void;
  /** Cancels one of the user's jobs; false when there was nothing to cancel. */
  cancel(userId: string, exportId: string): Promise<boolean>;
  /** Progress events of one export in this process. */
  subscribe(exportId: string, listener: (progress: ExportProgress) => void): () => void;
  /** Removes expired files now (it also runs every minute). */
  cleanup(now?: Date): Promise<number>;
  close(): Promise<void>;
}
