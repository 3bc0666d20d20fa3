'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { EXPORT_FORMATS } from '@/lib/export-formats';
import { useTRPC } from './trpc';
import styles from './export-toasts.module.css';

interface Toast {
  exportId: string;
  text: string;
  downloadUrl: string | null;
  failed: boolean;
}

const POLL_MS = 5_000;
const MAX_TOASTS = 3;

/**
 * Tells about export jobs that finish while this page is open but are not shown in it: started in
 * another chat, another tab or the history page. The chat's own jobs have their progress card.
 */
export function ExportToasts({ currentChatId }: { currentChatId: string | null }) {
  const trpc = useTRPC();
  // The server's clock, so a browser whose clock differs neither misses nor repeats a job.
  const [after, setAfter] = useState<Date | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const seen = useRef(new Set<string>());
  const finished = useQuery({
    ...trpc.history.finished.queryOptions({ after }),
    refetchInterval: POLL_MS,
    refetchIntervalInBackground: false,
  });

  useEffect(() => {
    const data = finished.data;
    if (!data) return;
    if (after === null) {
      setAfter(data.now);
      return;
    }
    const fresh: Toast[] = [];
    for (const entry of data.entries) {
      if (seen.current.has(entry.exportId)) continue;
      seen.current.add(entry.exportId);
      if (entry.chatId !== null && entry.chatId === currentChatId) continue;
      const what = `${entry.archive ? 'ZIP' : EXPORT_FORMATS[entry.format].label} export “${entry.title}”`;
      fresh.push(
        entry.status === 'succeeded'
          ? {
              exportId: entry.exportId,
              text: `Your ${what} is ready${entry.rows !== null ? `: ${entry.rows.toLocaleString('en-US')} rows` : ''}.`,
              downloadUrl: entry.downloadUrl,
              failed: false,
            }
          : {
              exportId: entry.exportId,
              text: `Your ${what} failed: ${entry.error ?? 'unknown error'}`,
              downloadUrl: null,
              failed: true,
            },
      );
    }
    if (fresh.length > 0) setToasts((shown) => [...fresh, ...shown].slice(0, MAX_TOASTS));
  }, [finished.data, after, currentChatId]);

  const dismiss = (exportId: string) => setToasts((shown) => shown.filter((toast) => toast.exportId !== exportId));
  return (
    <div className={styles.toasts} role="status" aria-live="polite">
      {toasts.map((toast) => (
        <div
          key={toast.exportId}
          className={toast.failed ? `${styles.toast} ${styles.failed}` : styles.toast}
          data-toast
        >
          <p>{toast.text}</p>
          <div className={styles.actions}>
            {toast.downloadUrl && (
              <a className="chip" href={toast.downloadUrl} download onClick={() => dismiss(toast.exportId)}>
                Download
              </a>
            )}
            <button
              type="button"
              className="link-button"
              onClick={() => dismiss(toast.exportId)}
              aria-label={`Dismiss: ${toast.text}`}
            >
              Dismiss
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}
