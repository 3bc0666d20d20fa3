'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { EXPORT_FORMAT_NAMES, EXPORT_FORMATS, type ExportFormat } from '@/lib/export-formats';
import type { Preferences } from '@/lib/preferences';
import { useTRPC } from './trpc';
import styles from './settings-dialog.module.css';

const FORMAT_CHOICES: Array<{ value: ExportFormat | null; label: string }> = [
  { value: null, label: 'Ask each time' },
  ...EXPORT_FORMAT_NAMES.map((format) => ({
    value: format,
    label: `${EXPORT_FORMATS[format].label} — ${EXPORT_FORMATS[format].useFor}`,
  })),
];

/** Export settings: the same record "always use json" edits in the chat. */
/** The on/off file preferences, one checkbox each, in the order the dialog shows them. */
const FILE_OPTIONS = [
  ['csvByteOrderMark', 'Add a byte-order mark to CSV files (helps Excel read accents)'],
  ['neutraliseFormulas', 'Protect spreadsheets from formulas in CSV text (recommended)'],
  ['includeMetadata', 'Include the query and row count in JSON files'],
  [
    'jsonBigIntegersAsText',
    'Write integers beyond 2^53 as text in JSON files (for JavaScript, which would round them)',
  ],
] as const;

export function SettingsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const current = useQuery({ ...trpc.preferences.get.queryOptions(), enabled: open });
  const [draft, setDraft] = useState<Preferences | null>(null);
  const save = useMutation(
    trpc.preferences.update.mutationOptions({
      onSuccess: (saved) => {
        queryClient.setQueryData(trpc.preferences.get.queryKey(), saved);
        onClose();
      },
    }),
  );

  useEffect(() => {
    if (open && !dialog.current?.open) dialog.current?.showModal();
    if (!open && dialog.current?.open) dialog.current.close();
  }, [open]);
  useEffect(() => {
    if (open && current.data) setDraft(current.data);
  }, [open, current.data]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (draft) save.mutate(draft);
  }

  return (
    <dialog ref={dialog} className={styles.dialog} aria-labelledby="settings-title" onClose={onClose}>
      <form onSubmit={submit}>
        <h2 id="settings-title">Export settings</h2>
        {!draft ? (
          <p className="muted">Loading…</p>
        ) : (
          <>
            <fieldset>
              <legend>Default format for “export this”</legend>
              {FORMAT_CHOICES.map((choice) => (
                <label key={choice.value ?? 'ask'} className={styles.choice}>
                  <input
                    type="radio"
                    name="defaultFormat"
                    checked={draft.defaultFormat === choice.value}
                    onChange={() => setDraft({ ...draft, defaultFormat: choice.value })}
                  />
                  {choice.label}
                </label>
              ))}
            </fieldset>
            <fieldset>
              <legend>Files</legend>
              {FILE_OPTIONS.map(([name, label]) => (
                <label key={name} className={styles.choice}>
                  <input
                    type="checkbox"
                    name={name}
                    checked={draft[name]}
                    onChange={(event) => setDraft({ ...draft, [name]: event.target.checked })}
                  />
                  {label}
                </label>
              ))}
            </fieldset>
          </>
        )}
        {save.error && (
          <p className="form-error" role="alert">
            {save.error.message}
          </p>
        )}
        <div className={styles.actions}>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={!draft || save.isPending}>
            {save.isPending ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
