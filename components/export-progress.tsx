'use client';

import { useMutation } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { formatBytes, type ExportProgress } from '@/lib/export-progress';
import { startDownload } from './download';
import { useTRPC, useTRPCClient } from './trpc';
import card from './export-card.module.css';

// Exports this page started: when one finishes it downloads by itself. (After a reload, the card
// offers a download button instead of downloading again.)
const startedHere = new Set<string>();
const downloaded = new Set<string>();

export function markStartedHere(exportId: string) {
  startedHere.add(exportId);
}

function eta(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 60) return ` · about ${Math.max(1, seconds)} s left`;
  return ` · about ${Math.round(seconds / 60)} min left`;
}

function timeLeft(expiresAt: Date | null, now: number): string {
  if (!expiresAt) return '';
  const seconds = Math.max(0, Math.round((new Date(expiresAt).getTime() - now) / 1000));
  if (seconds === 0) return ' · expiring now';
  if (seconds < 120) return ` · available for ${seconds} more s`;
  return ` · available for ${Math.round(seconds / 60)} more min`;
}

/** The current time, refreshed every `intervalMs`: the expiry countdown moves without new events. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** Follows an export's progress over the tRPC subscription (SSE) until it ends. */
function useExportProgress(exportId: string): { progress: ExportProgress | null; error: string | null } {
  const client = useTRPCClient();
  const [progress, setProgress] = useState<ExportProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const subscription = client.exports.progress.subscribe(
      { exportId },
      { onData: setProgress, onError: (failure) => setError(failure.message) },
    );
    return () => subscription.unsubscribe();
  }, [client, exportId]);
  return { progress, error };
}

/** A large export's progress: bar, rows, percent, time left, Cancel; then the download. */
export function ExportProgressCard({ exportId, label }: { exportId: string; label: string }) {
  const trpc = useTRPC();
  const { progress, error } = useExportProgress(exportId);
  const now = useNow(15_000);
  const cancel = useMutation(trpc.exports.cancel.mutationOptions());

  useEffect(() => {
    if (progress?.status === 'succeeded' && startedHere.has(exportId) && !downloaded.has(exportId)) {
      downloaded.add(exportId);
      startDownload(progress.downloadUrl);
    }
  }, [progress?.status, progress?.downloadUrl, exportId]);

  if (error && !progress) return <p className={`${card.card} error-text`}>{error}</p>;
  if (!progress)
    return (
      <div className={card.card}>
        <span className="muted">Connecting to the export…</span>
      </div>
    );

  const active = progress.status === 'queued' || progress.status === 'running';
  const rows = `${progress.rowsWritten.toLocaleString('en-US')}${progress.totalRows !== null ? ` of ${progress.totalRows.toLocaleString('en-US')}` : ''} rows`;
  return (
    <div className={`${card.card} ${card.job}`} data-status={progress.status}>
      <span className={card.format} aria-hidden="true">
        {label}
      </span>
      {active && (
        <>
          <div
            className={card.progress}
            role="progressbar"
            aria-label="Export progress"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={progress.percent ?? undefined}
          >
            <div className={card.bar} style={{ width: `${progress.percent ?? 0}%` }} />
          </div>
          <span className={card.progressText} aria-live="polite">
            {progress.status === 'queued'
              ? 'Waiting for a free slot…'
              : `${rows}${progress.percent !== null ? ` · ${progress.percent}%` : ''}${eta(progress.etaSeconds)}`}
          </span>
          <button
            type="button"
            className="chip"
            onClick={() => cancel.mutate({ exportId })}
            disabled={cancel.isPending}
          >
            Cancel
          </button>
        </>
      )}
      {progress.status === 'succeeded' && (
        <>
          <span className={card.progressText}>
            Ready: {rows} · {formatBytes(progress.bytes)}
            {timeLeft(progress.expiresAt, now)}
          </span>
          <a className="chip" href={progress.downloadUrl} download>
            Download
          </a>
        </>
      )}
      {progress.status === 'failed' && (
        <span className={`${card.progressText} error-text`}>{progress.error ?? 'The export failed.'}</span>
      )}
      {progress.status === 'cancelled' && <span className={card.progressText}>Cancelled.</span>}
      {progress.status === 'expired' && (
        <span className={card.progressText}>
          This file has expired (files are kept for an hour). Ask again to export it.
        </span>
      )}
    </div>
  );
}
