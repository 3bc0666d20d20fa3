'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from './trpc';
import type { ChatMessageData } from './chat-message';
import styles from './saved-queries.module.css';

interface SavedQueriesProps {
  /** Run & Export answered: show the new chat and start its download. */
  onAnswered: (result: { chatId: string; messages: Array<ChatMessageData & { createdAt: Date }> }) => void;
}

/** The sidebar's saved queries: Run & Export, rename, delete. */
export function SavedQueries({ onAnswered }: SavedQueriesProps) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const saved = useQuery(trpc.savedQueries.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.savedQueries.list.queryKey() });
  const runAndExport = useMutation(trpc.savedQueries.runAndExport.mutationOptions({ onSuccess: onAnswered }));
  const rename = useMutation(trpc.savedQueries.rename.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.savedQueries.delete.mutationOptions({ onSuccess: refresh }));
  const error = runAndExport.error ?? rename.error ?? remove.error;

  if (!saved.data || saved.data.length === 0) return null;
  return (
    <section className={styles.section} aria-label="Saved queries">
      <h2>Saved queries</h2>
      <ul>
        {saved.data.map((query) => (
          <li key={query.id}>
            <span className={styles.name} title={query.sql}>
              {query.name}
            </span>
            <span className={styles.actions}>
              <button
                type="button"
                className="chip"
                disabled={runAndExport.isPending}
                onClick={() => runAndExport.mutate({ id: query.id })}
                aria-label={`Run & Export ${query.name}`}
              >
                Run &amp; Export
              </button>
              <button
                type="button"
                className="link-button"
                aria-label={`Rename ${query.name}`}
                onClick={() => {
                  const name = window.prompt('New name', query.name);
                  if (name?.trim() && name.trim() !== query.name) rename.mutate({ id: query.id, name });
                }}
              >
                Rename
              </button>
              <button
                type="button"
                className="link-button"
                aria-label={`Delete ${query.name}`}
                onClick={() => {
                  if (window.confirm(`Delete the saved query "${query.name}"?`)) remove.mutate({ id: query.id });
                }}
              >
                Delete
              </button>
            </span>
          </li>
        ))}
      </ul>
      {error && (
        <p className="form-error" role="alert">
          {error.message}
        </p>
      )}
    </section>
  );
}
