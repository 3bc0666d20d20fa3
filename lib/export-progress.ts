/** Where an export stands, as the progress subscription and history report it. */
export const EXPORT_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

/** Statuses of an export that has not ended: it holds a place under the per-user limits. */
export const ACTIVE_EXPORT_STATUSES: readonly ExportStatus[] = ['queued', 'running'];

export interface ExportProgress {
  exportId: string;
  status: ExportStatus;
  rowsWritten: number;
  totalRows: number | null;
  percent: number | null;
  etaSeconds: number | null;
  bytes: number;
  error: string | null;
  expiresAt: Date | null;
  downloadUrl: string;
}

const TERMINAL_EXPORT_STATUSES: readonly ExportStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export function isTerminal(status: ExportStatus): boolean {
  return TERMINAL_EXPORT_STATUSES.includes(status);
}

/** A file size for people: 512 B, 1.5 KB, 12.3 MB, 1.2 GB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
