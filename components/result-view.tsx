'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { ChatAction } from '@/lib/chat-action';
import type { QueryResultPayload } from '@/lib/chat-message';
import { ExportChips } from './export-chips';
import { ResultGrid } from './result-grid';
import { useTRPC } from './trpc';
import styles from './result.module.css';

/** "Save": keeps this result's query under a name, for Run & Export later. */
function SaveQuery({ queryRunId, title }: { queryRunId: string; title: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(title);
  const save = useMutation(
    trpc.savedQueries.save.mutationOptions({
      onSuccess: () => {
        setOpen(false);
        void queryClient.invalidateQueries({ queryKey: trpc.savedQueries.list.queryKey() });
      },
    }),
  );
  function submit(event: FormEvent) {
    event.preventDefault();
    save.mutate({ queryRunId, name });
  }
  if (save.isSuccess && !open) return <span className={`muted ${styles.savedNote}`}>Saved as “{save.data.name}”.</span>;
  if (!open) {
    return (
      <button type="button" className="link-button" onClick={() => setOpen(true)}>
        Save query
      </button>
    );
  }
  return (
    <form className={styles.saveForm} onSubmit={submit} aria-label="Save query">
      <label>
        <span className="visually-hidden">Name for the saved query</span>
        <input
          value={name}
          onChange={(event) => setName(event.target.value)}
          maxLength={80}
          // biome-ignore lint/a11y/noAutofocus: the field appears because the person just asked to name the query
          autoFocus
          aria-label="Name for the saved query"
        />
      </label>
      <button type="submit" className="chip" disabled={save.isPending}>
        Save
      </button>
      <button type="button" className="link-button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {save.error && (
        <span className="error-text" role="alert">
          {save.error.message}
        </span>
      )}
    </form>
  );
}

export function ResultView({
  result,
  onAction,
  busy,
}: {
  result: QueryResultPayload;
  onAction: (label: string, action: ChatAction) => void;
  busy: boolean;
}) {
  return (
    <div className={styles.result} data-result>
      <details className={styles.sql}>
        <summary>
          Query {result.position} · <span className={styles.sqlTitle}>{result.title}</span> · SQL
        </summary>
        <pre>
          <code>{result.sql}</code>
        </pre>
      </details>
      {result.columns.length > 0 ? <ResultGrid result={result} /> : null}
      <div className={styles.actions}>
        <ExportChips
          queryRunId={result.queryRunId}
          totalRows={result.totalRows}
          delivery={result.exportDelivery}
          onAction={onAction}
          busy={busy}
        />
        <SaveQuery queryRunId={result.queryRunId} title={result.title} />
      </div>
    </div>
  );
}
