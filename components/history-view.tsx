'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { EXPORT_FORMAT_NAMES, EXPORT_FORMATS } from '@/lib/export-formats';
import { formatBytes } from '@/lib/export-progress';
import type { HistoryFilter } from '@/lib/history';
import type { ExportQueriesInput } from '@/lib/export-request';
import { startDownload } from './download';
import { ExportProgressCard, markStartedHere } from './export-progress';
import { useTRPC } from './trpc';
import styles from './history-view.module.css';

const STATUSES = ['succeeded', 'failed', 'cancelled', 'expired', 'running', 'queued'] as const;
const STATUS_LABELS: Record<(typeof STATUSES)[number], string> = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  expired: 'Expired',
  running: 'Running',
  queued: 'Queued',
};
const FORMATS = EXPORT_FORMAT_NAMES;

function FormatOptions() {
  return FORMATS.map((format) => (
    <option key={format} value={format}>
      {EXPORT_FORMATS[format].label}
    </option>
  ));
}

function size(bytes: number | null): string {
  return bytes === null ? '—' : formatBytes(bytes);
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Starts a download, or follows a job until its file is ready. */
function useDelivery() {
  const [jobs, setJobs] = useState<Array<{ exportId: string; label: string }>>([]);
  const deliver = (result: { exportId: string; delivery: 'stream' | 'file'; downloadUrl: string }, label: string) => {
    if (result.delivery === 'stream') startDownload(result.downloadUrl);
    else {
      markStartedHere(result.exportId);
      setJobs((current) => [{ exportId: result.exportId, label }, ...current]);
    }
  };
  return { jobs, deliver };
}

export function HistoryView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState<HistoryFilter>({ status: null, format: null });
  const [selected, setSelected] = useState<string[]>([]);
  const [batchFormat, setBatchFormat] = useState<ExportQueriesInput['format']>('csv');
  const history = useQuery(trpc.history.list.queryOptions(filter));
  const [scope, setScope] = useState<string | null>(null);
  const chats = useQuery(trpc.chat.list.queryOptions());
  const queries = useQuery(trpc.history.queries.queryOptions({ chatId: scope }));
  const { jobs, deliver } = useDelivery();
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.history.list.queryKey() });
  const again = useMutation(
    trpc.history.exportAgain.mutationOptions({
      onSuccess: (result) => {
        deliver(result, 'Again');
        void refresh();
      },
    }),
  );
  const batch = useMutation(
    trpc.history.exportQueries.mutationOptions({
      onSuccess: (result) => {
        deliver(result, 'ZIP');
        setSelected([]);
        void refresh();
      },
    }),
  );
  const error = again.error ?? batch.error;

  return (
    <main className={styles.page}>
      <header className={styles.header}>
        <Link href="/chat" className="link-button">
          ← Back to the chat
        </Link>
        <h1>Exports</h1>
      </header>

      {history.data && history.data.stats.length > 0 && (
        <section className={styles.stats} aria-label="Export durations">
          {history.data.stats.map((stat) => (
            <div key={stat.format} className={styles.stat}>
              <strong>{EXPORT_FORMATS[stat.format].label}</strong>
              <span>
                {stat.exports} {stat.exports === 1 ? 'export' : 'exports'} · median {duration(stat.medianMs)} · p95{' '}
                {duration(stat.p95Ms)}
                {stat.rowsPerSecond !== null ? ` · ${stat.rowsPerSecond.toLocaleString('en-US')} rows/s` : ''}
              </span>
            </div>
          ))}
        </section>
      )}

      {jobs.map((job) => (
        <ExportProgressCard key={job.exportId} exportId={job.exportId} label={job.label} />
      ))}
      {error && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}

      <section aria-labelledby="queries-title">
        <h2 id="queries-title">Queries</h2>
        <div className={styles.bar}>
          <label>
            From{' '}
            <select
              value={scope ?? ''}
              onChange={(event) => setScope(event.target.value || null)}
              aria-label="Queries from"
            >
              <option value="">All chats</option>
              {chats.data?.map((chat) => (
                <option key={chat.id} value={chat.id}>
                  {chat.title}
                </option>
              ))}
            </select>
          </label>
          <span>{selected.length} selected</span>
          <label>
            Format{' '}
            <select
              value={batchFormat}
              onChange={(event) => setBatchFormat(event.target.value as ExportQueriesInput['format'])}
              aria-label="Format for the ZIP"
            >
              <FormatOptions />
              <option value="own">Each its own (the format it was last exported in)</option>
            </select>
          </label>
          <button
            type="button"
            className="button primary"
            disabled={selected.length === 0 || batch.isPending}
            onClick={() => batch.mutate({ queryRunIds: selected, format: batchFormat })}
          >
            Export selected as ZIP
          </button>
        </div>
        <ul className={styles.queryList}>
          {queries.data?.map((run) => (
            <li key={run.id}>
              <label>
                <input
                  type="checkbox"
                  checked={selected.includes(run.id)}
                  onChange={(event) =>
                    setSelected((current) =>
                      event.target.checked ? [...current, run.id] : current.filter((id) => id !== run.id),
                    )
                  }
                />
                <span className={styles.queryTitle}>{run.title}</span>
                <span className="muted">
                  {run.rowCount.toLocaleString('en-US')} rows · query {run.position} in “{run.chat.title}”
                </span>
              </label>
            </li>
          ))}
          {queries.data?.length === 0 && <li className="muted">No queries yet.</li>}
        </ul>
      </section>

      <section aria-labelledby="exports-title">
        <h2 id="exports-title">History</h2>
        <div className={styles.bar}>
          <label>
            Status{' '}
            <select
              value={filter.status ?? ''}
              onChange={(event) =>
                setFilter({ ...filter, status: (event.target.value || null) as HistoryFilter['status'] })
              }
              aria-label="Filter by status"
            >
              <option value="">All</option>
              {STATUSES.map((status) => (
                <option key={status} value={status}>
                  {status}
                </option>
              ))}
            </select>
          </label>
          <label>
            Format{' '}
            <select
              value={filter.format ?? ''}
              onChange={(event) =>
                setFilter({ ...filter, format: (event.target.value || null) as HistoryFilter['format'] })
              }
              aria-label="Filter by format"
            >
              <option value="">All</option>
              <FormatOptions />
            </select>
          </label>
        </div>
        <div className={styles.tableWrap}>
          <table className={styles.table} data-history-table>
            <thead>
              <tr>
                <th scope="col">Export</th>
                <th scope="col">Format</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Rows
                </th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {history.data?.entries.map((entry) => (
                <tr key={entry.exportId} data-status={entry.status}>
                  <td>{entry.title}</td>
                  <td>
                    {entry.archive
                      ? `ZIP of ${entry.formats.map((format) => EXPORT_FORMATS[format].label).join(' + ')}`
                      : EXPORT_FORMATS[entry.format].label}
                  </td>
                  <td>
                    <span className={`${styles.status} ${styles[entry.status] ?? ''}`}>
                      {STATUS_LABELS[entry.status]}
                    </span>
                    {entry.error && <div className="error-text">{entry.error}</div>}
                  </td>
                  <td className="num">{entry.rows?.toLocaleString('en-US') ?? '—'}</td>
                  <td className="num">{size(entry.bytes)}</td>
                  <td className="num">{duration(entry.durationMs)}</td>
                  <td>{new Date(entry.createdAt).toLocaleString()}</td>
                  <td>{entry.expiresAt ? new Date(entry.expiresAt).toLocaleTimeString() : '—'}</td>
                  <td className={styles.actions}>
                    {entry.downloadUrl && (
                      <a className="chip" href={entry.downloadUrl} download>
                        Download
                      </a>
                    )}
                    <button
                      type="button"
                      className="chip"
                      disabled={again.isPending}
                      onClick={() => again.mutate({ exportId: entry.exportId })}
                    >
                      Export again
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {history.isPending && <div className="skeleton" role="status" aria-label="Loading exports" />}
          {history.data?.entries.length === 0 && <p className={`muted ${styles.empty}`}>No exports match.</p>}
        </div>
      </section>
    </main>
  );
}
