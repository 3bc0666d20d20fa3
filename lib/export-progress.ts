/** Where an export stands, as the progress subscription reports it. */
export type ExportStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

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

export const TERMINAL_EXPORT_STATUSES: readonly ExportStatus[] = ['succeeded', 'failed', 'cancelled', 'expired'];

export function isTerminal(status: ExportStatus): boolean {
  return TERMINAL_EXPORT_STATUSES.includes(status);
}
