'use client';

import { useQuery } from '@tanstack/react-query';
import type { ChatAction } from '@/lib/chat-action';
import { EXPORT_FORMAT_NAMES, EXPORT_FORMATS, downloadPath, type ExportFormat } from '@/lib/export-formats';
import { useTRPC } from './trpc';
import { ChipGroup } from './chip-group';

// Suggested exports are data: one entry per format, rendered the same way everywhere.
const SUGGESTED_FORMATS: readonly ExportFormat[] = EXPORT_FORMAT_NAMES;

interface ExportChipsProps {
  queryRunId: string;
  totalRows: number;
  onAction: (label: string, action: ChatAction) => void;
  busy: boolean;
}

/**
 * One chip per format. Small results download at once through a plain link; large ones start an
 * export job (progress in the chat) through the same structured action a clarification chip sends.
 */
export function ExportChips({ queryRunId, totalRows, onAction, busy }: ExportChipsProps) {
  const trpc = useTRPC();
  const threshold = useQuery(trpc.chat.info.queryOptions()).data?.exportJobThresholdRows ?? Number.POSITIVE_INFINITY;
  const rows = `${totalRows.toLocaleString('en-US')} ${totalRows === 1 ? 'row' : 'rows'}`;
  const asJob = totalRows > threshold;
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
