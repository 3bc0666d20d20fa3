import type { ChatOption } from '@/lib/chat-action';
import type { MessageMeta, MessagePayload } from '@/lib/chat-message';
import { EXPORT_FORMAT_NAMES, EXPORT_FORMATS, type ExportFormat } from '@/lib/export-formats';
import type { Intent } from '@/lib/intent';
import { PREVIEW_CELL_CHARS, PREVIEW_MAX_BYTES } from '@/lib/limits';
import type { QueryColumn } from '../export/values';

// The chat's decisions and words that need no database: which results an export means, and what the
// replies say. The chat service (service.ts) reads and writes; these are unit-tested on their own.

/** An assistant reply before it is stored. */
export interface Reply {
  content: string;
  payload: MessagePayload | null;
  queryRunId?: string | null;
  /** A second assistant message right after this one (a described export: the result, then the export). */
  followUp?: Reply;
  /** How it was answered (path, model calls, tokens, steps); stored with the message. */
  meta?: MessageMeta;
  /** A result's columns with their kinds, as the data source gave them (not stored: for the model). */
  columns?: QueryColumn[];
}

/** A reply and its follow-ups as one flat list, in order. */
export function flattenReplies(replies: Reply[]): Reply[] {
  const flat: Reply[] = [];
  for (const reply of replies)
    for (let next: Reply | undefined = reply; next; next = next.followUp) flat.push({ ...next, followUp: undefined });
  return flat;
}

/** What a reply needs to know of a query run. */
export interface RunSummary {
  id: string;
  position: number;
  title: string;
  rowCount: number;
}

export const rowsText = (count: number) => `${count.toLocaleString('en-US')} ${count === 1 ? 'row' : 'rows'}`;

export function choice(question: string, options: ChatOption[]): Reply {
  return { content: question, payload: { kind: 'choice', options } };
}

/** One chip per format for these runs (plus "each its own" for a ZIP). */
export function formatOptions(runs: RunSummary[], archive: boolean): ChatOption[] {
  const queryRunIds = runs.map((run) => run.id);
  const options: ChatOption[] = EXPORT_FORMAT_NAMES.map((format) => ({
    label: EXPORT_FORMATS[format].label,
    description: EXPORT_FORMATS[format].useFor,
    action: { kind: 'export', queryRunIds, format, archive, rememberFormat: false, eachOwnFormat: false },
  }));
  if (archive) {
    options.push({
      label: 'Each its own',
      description: 'each query in the format it was last exported in',
      action: { kind: 'export', queryRunIds, format: 'csv', archive, rememberFormat: false, eachOwnFormat: true },
    });
  }
  return options;
}

export function describeRuns(runs: RunSummary[]): string {
  return runs.map((run) => `${run.position} · ${run.title} (${rowsText(run.rowCount)})`).join('; ');
}

/**
 * The results of the chat an export intent means ("this", "the one before", "query 2", "all"), or
 * the question to ask when there is no such result. `runs` are the chat's, oldest first, not empty.
 */
export function chooseResults<Run extends RunSummary>(
  runs: Run[],
  intent: Pick<Intent, 'target' | 'nth' | 'format'>,
): { runs: Run[]; archive: boolean } | { ask: Reply } {
  if (intent.target === 'all') return { runs, archive: true };
  if (intent.target === 'previous') {
    if (runs.length < 2)
      return {
        ask: choice(
          `This chat has only one result: ${describeRuns(runs)}. Export that one?`,
          formatOptions(runs, false),
        ),
      };
    return { runs: [runs[runs.length - 2]!], archive: false };
  }
  if (intent.target === 'nth') {
    const run = runs.find((candidate) => candidate.position === intent.nth);
    if (run) return { runs: [run], archive: false };
    const count = runs.length;
    return {
      ask: choice(
        `This chat has ${count === 1 ? 'one query' : `${count} queries`}, so there is no query ${intent.nth}: ${describeRuns(runs)}. Which one?`,
        runs.slice(-6).map((candidate) => ({
          label: `Query ${candidate.position} · ${candidate.title}`,
          description: rowsText(candidate.rowCount),
          action: {
            kind: 'send',
            text: `export query ${candidate.position}${intent.format ? ` as ${intent.format}` : ''}`,
          },
        })),
      ),
    };
  }
  return { runs: [runs.at(-1)!], archive: false };
}

/** "Do you want to export … as Excel?", with the chip of that format first: asked below the confidence threshold. */
export function confirmExport(runs: RunSummary[], archive: boolean, format: ExportFormat): Reply {
  const what = archive ? `all ${runs.length} queries as a ZIP` : `"${runs[0]!.title}" (${rowsText(runs[0]!.rowCount)})`;
  const chosenFirst = (option: ChatOption) =>
    Number(option.action.kind === 'export' && option.action.format === format);
  return choice(
    `Do you want to export ${what} as ${EXPORT_FORMATS[format].label}?`,
    formatOptions(runs, archive).sort((a, b) => chosenFirst(b) - chosenFirst(a)),
  );
}

/** What an export holds, in words: "1,234 rows as CSV — opens in any spreadsheet", "3 queries (…) in one ZIP…". */
export function exportDescription(
  runs: RunSummary[],
  format: ExportFormat,
  archive: boolean,
  fromDefault: boolean,
  memberFormats?: Record<string, ExportFormat>,
): string {
  const info = EXPORT_FORMATS[format];
  const total = runs.reduce((sum, run) => sum + run.rowCount, 0);
  if (memberFormats) {
    const each = runs
      .map((run) => `${run.title} as ${EXPORT_FORMATS[memberFormats[run.id] ?? format].label}`)
      .join(', ');
    return `${runs.length} queries (${rowsText(total)}) in one ZIP, each in its own format (${each}), with a manifest`;
  }
  if (runs.length > 1 || archive) {
    return `${runs.length} queries (${rowsText(total)}) as ${info.label} files in one ZIP, with a manifest${fromDefault ? ' (your default format)' : ''}`;
  }
  return `${rowsText(total)} as ${info.label} — ${fromDefault ? 'your default format' : info.useFor}`;
}

/** The text above a result table: how many rows, how many are shown, and what was cut for the chat. */
export function resultText(preview: {
  totalRows: number;
  shown: number;
  bytesLimited: boolean;
  cutCells: number;
}): string {
  const { totalRows, shown } = preview;
  const counted =
    totalRows === 0
      ? 'No rows match this query. The columns are below; an export of it is a file with just the header.'
      : shown < totalRows
        ? `${totalRows.toLocaleString('en-US')} rows. Showing the first ${shown}${preview.bytesLimited ? ` (the chat holds up to ${PREVIEW_MAX_BYTES / 1024} KB of a result)` : ''}.`
        : `${rowsText(totalRows)}.`;
  if (preview.cutCells === 0) return counted;
  const values =
    preview.cutCells === 1
      ? 'One long value is cut to its'
      : `${preview.cutCells.toLocaleString('en-US')} long values are cut to their`;
  return `${counted} ${values} first ${PREVIEW_CELL_CHARS} characters here; an export carries every value whole.`;
}
