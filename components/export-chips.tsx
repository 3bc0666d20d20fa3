'use client';

import type { ChatAction } from '@/lib/chat-action';
import {
  EXPORT_FORMAT_NAMES,
  EXPORT_FORMATS,
  downloadPath,
  type ExportDelivery,
  type ExportFormat,
} from '@/lib/export-formats';
import { ChipGroup } from './chip-group';

// Suggested exports are data: one entry per format, rendered the same way everywhere.
const SUGGESTED_FORMATS: readonly ExportFormat[] = EXPORT_FORMAT_NAMES;

interface ExportChipsProps {
  queryRunId: string;
  totalRows: number;
  /** As the server decided for this result: "file" exports are jobs with progress in the chat. */
  delivery: ExportDelivery;
  onAction: (label: string, action: ChatAction) => void;
  busy: boolean;
}

/**
 * One chip per format. Results the server streams download at once through a plain link; the ones it
 * exports as jobs (progress in the chat) go through the same structured action a clarification chip sends.
 */
export function ExportChips({ queryRunId, totalRows, delivery, onAction, busy }: ExportChipsProps) {
  const rows = `${totalRows.toLocaleString('en-US')} ${totalRows === 1 ? 'row' : 'rows'}`;
  const asJob = delivery === 'file';
  return (
    <ChipGroup label="Export this result">
      <span className="chips-label">Export</span>
      {SUGGESTED_FORMATS.map((format) => {
        const info = EXPORT_FORMATS[format];
        const description = `Download all ${rows} as ${info.label} (${info.useFor})`;
        if (asJob) {
          return (
            <button
              key={format}
              type="button"
              className="chip"
              disabled={busy}
              aria-label={description}
              data-hint={`${info.label} · ${rows}`}
              data-format={format}
              onClick={() =>
                onAction(`Export as ${info.label}`, {
                  kind: 'export',
                  queryRunIds: [queryRunId],
                  format,
                  archive: false,
                  rememberFormat: false,
                  eachOwnFormat: false,
                })
              }
            >
              {info.label}
            </button>
          );
        }
        return (
          <a
            key={format}
            className="chip"
            href={downloadPath({ queryRunId, format })}
            download
            aria-label={description}
            data-hint={`${info.label} · ${rows}`}
            data-format={format}
          >
            {info.label}
          </a>
        );
      })}
    </ChipGroup>
  );
}
