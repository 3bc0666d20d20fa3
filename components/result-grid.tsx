'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { QueryResultPayload } from '@/lib/chat-message';
import { EXTENDED_PREVIEW_ROW_LIMIT } from '@/lib/limits';
import { useTRPC } from './trpc';
import styles from './result.module.css';

type Cell = string | number | boolean | null;

function cellText(value: Cell): string {
  return value === null ? '' : String(value);
}

/** The clipboard API needs a secure context; plain-http deployments fall back to execCommand. */
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // permission refused: try the fallback
  }
  const scratch = document.createElement('textarea');
  scratch.value = text;
  scratch.setAttribute('readonly', '');
  scratch.style.position = 'fixed';
  scratch.style.opacity = '0';
  document.body.append(scratch);
  scratch.select();
  const copied = document.execCommand('copy');
  scratch.remove();
  return copied;
}

/** Above this many rows only the rows in view (and a margin) are in the page. */
const VIRTUALISE_ABOVE = 200;
const OVERSCAN_ROWS = 20;

/** Which rows to render for a scroll position: everything, or a window of uniform-height rows. */
function visibleRange(rowCount: number, scrollTop: number, viewHeight: number, rowHeight: number): [number, number] {
  if (rowCount <= VIRTUALISE_ABOVE) return [0, rowCount];
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN_ROWS);
  const last = Math.min(rowCount, Math.ceil((scrollTop + viewHeight) / rowHeight) + OVERSCAN_ROWS);
  return [first, last];
}

/**
 * The preview table as a grid: one cell is in the tab order, arrow keys, Home/End and Page Up/Down
 * move between cells, Enter or Ctrl+C copies the focused cell (a double-click copies too), and a
 * status line says what was copied.
 */
export function ResultGrid({ result }: { result: QueryResultPayload }) {
  const trpc = useTRPC();
  const [active, setActive] = useState<[number, number]>([0, 0]);
  const [status, setStatus] = useState('');
  const [showMore, setShowMore] = useState(false);
  const [scroll, setScroll] = useState({ top: 0, height: 420 });
  const [rowHeight, setRowHeight] = useState(31);
  const wrap = useRef<HTMLElement>(null);
  const table = useRef<HTMLTableElement>(null);
  // Set by a key that moves the active cell; cleared once that cell has the focus.
  const pendingFocus = useRef(false);
  // "Show 1,000 rows" runs the query again for more rows than the thread stores.
  const more = useQuery({
    ...trpc.chat.previewRows.queryOptions({ queryRunId: result.queryRunId }),
    enabled: showMore,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const rows = more.data?.rows ?? result.rows;
  const rowCount = rows.length;
  const columnCount = result.columns.length;
  const [first, last] = visibleRange(rowCount, scroll.top, scroll.height, rowHeight);
  const canShowMore = !more.data && result.totalRows > result.rows.length;
  // The cell Tab lands on: the active one, or the first rendered one when the active row is scrolled
  // out of the rendered window (the grid must stay reachable by keyboard).
  const activeRendered = active[0] >= first && active[0] < last;
  const [tabRow, tabColumn] = activeRendered ? active : [first, 0];

  // biome-ignore lint/correctness/useExhaustiveDependencies: measured again whenever the rendered rows change
  useEffect(() => {
    // Rows are one line high (cells do not wrap), so one row's height places all of them.
    const measured = table.current?.querySelector('tbody tr:not([data-spacer])')?.getBoundingClientRect().height;
    if (measured && Math.abs(measured - rowHeight) > 0.5) setRowHeight(measured);
  }, [rowCount, rowHeight]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs again once the rendered window (first) has moved to the active row
  useEffect(() => {
    if (!pendingFocus.current) return;
    const [row, column] = active;
    // A row outside the rendered window is scrolled to first; the focus follows once it is there.
    const cell = table.current?.querySelector<HTMLElement>(`[data-cell="${row}:${column}"]`);
    if (cell) {
      pendingFocus.current = false;
      cell.focus();
    } else if (wrap.current) wrap.current.scrollTop = Math.max(0, row * rowHeight - wrap.current.clientHeight / 2);
  }, [active, first, rowHeight]);

  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(() => setStatus(''), 4_000);
    return () => clearTimeout(timer);
  }, [status]);

  async function copy(row: number, column: number) {
    const value = rows[row]?.[column] ?? null;
    const text = cellText(value);
    const name = result.columns[column]?.name ?? '';
    const copied = await copyText(text);
    setStatus(
      copied
        ? `Copied ${value === null ? 'an empty value (NULL)' : `“${text.length > 60 ? `${text.slice(0, 60)}…` : text}”`} from ${name}, row ${row + 1}.`
        : 'Your browser did not allow copying; select the text instead.',
    );
  }

  function onKeyDown(event: KeyboardEvent<HTMLTableElement>) {
    if (rowCount === 0) return;
    const [row, column] = active;
    const moves: Record<string, [number, number]> = {
      ArrowDown: [Math.min(rowCount - 1, row + 1), column],
      ArrowUp: [Math.max(0, row - 1), column],
      ArrowRight: [row, Math.min(columnCount - 1, column + 1)],
      ArrowLeft: [row, Math.max(0, column - 1)],
      Home: event.ctrlKey ? [0, 0] : [row, 0],
      End: event.ctrlKey ? [rowCount - 1, columnCount - 1] : [row, columnCount - 1],
      PageDown: [Math.min(rowCount - 1, row + 10), column],
      PageUp: [Math.max(0, row - 10), column],
    };
    const target = moves[event.key];
    if (target) {
      event.preventDefault();
      pendingFocus.current = true;
      setActive(target);
      return;
    }
    const copyKey =
      event.key === 'Enter' ||
      ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c' && !window.getSelection()?.toString());
    if (copyKey) {
      event.preventDefault();
      void copy(row, column);
    }
  }

  return (
    <>
      <section
        ref={wrap}
        className={styles.tableWrap}
        aria-label={`Result of query ${result.position}`}
        onScroll={(event) =>
          setScroll({ top: event.currentTarget.scrollTop, height: event.currentTarget.clientHeight })
        }
      >
        <table
          ref={table}
          // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the ARIA grid pattern on a table (arrow keys between cells, one cell in the tab order)
          role="grid"
          aria-rowcount={rowCount + 1}
          aria-colcount={columnCount}
          aria-describedby={`grid-help-${result.queryRunId}`}
          onKeyDown={onKeyDown}
        >
          <thead>
            <tr aria-rowindex={1}>
              {result.columns.map((column, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional (names can repeat)
                <th key={index} scope="col" className={column.numeric ? 'num' : undefined}>
                  {column.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rowCount === 0 && (
              <tr>
                <td colSpan={Math.max(1, columnCount)} className={styles.empty}>
                  No rows
                </td>
              </tr>
            )}
            {first > 0 && (
              // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row has no cell and takes no focus; it only keeps the scroll height
              <tr className={styles.spacer} data-spacer aria-hidden="true" style={{ height: first * rowHeight }} />
            )}
            {rows.slice(first, last).map((row, offset) => {
              const rowIndex = first + offset;
              return (
                <tr key={rowIndex} aria-rowindex={rowIndex + 2}>
                  {row.map((value, index) => {
                    const isActive = active[0] === rowIndex && active[1] === index;
                    const kind = value === null ? 'null' : result.columns[index]?.numeric ? 'num' : '';
                    const text = value === null ? 'NULL' : cellText(value);
                    return (
                      <td
                        // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                        key={index}
                        data-cell={`${rowIndex}:${index}`}
                        tabIndex={rowIndex === tabRow && index === tabColumn ? 0 : -1}
                        className={`${kind}${isActive ? ` ${styles.active}` : ''}`.trim() || undefined}
                        title={text.length > 40 ? text : undefined}
                        onFocus={() => setActive([rowIndex, index])}
                        onDoubleClick={() => void copy(rowIndex, index)}
                      >
                        {text}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
            {last < rowCount && (
              // biome-ignore lint/a11y/noAriaHiddenOnFocusable: as the spacer above
              <tr
                className={styles.spacer}
                data-spacer
                aria-hidden="true"
                style={{ height: (rowCount - last) * rowHeight }}
              />
            )}
          </tbody>
        </table>
      </section>
      <p id={`grid-help-${result.queryRunId}`} className="visually-hidden">
        Arrow keys move between cells; Enter copies the cell.
      </p>
      <div className={styles.meta}>
        <p className={styles.count} data-result-count>
          {result.totalRows.toLocaleString('en-US')} {result.totalRows === 1 ? 'row' : 'rows'}
          {rowCount < result.totalRows ? ` · showing the first ${rowCount.toLocaleString('en-US')}` : ''}
        </p>
        {canShowMore && (
          <button type="button" className="link-button" onClick={() => setShowMore(true)} disabled={more.isFetching}>
            {more.isFetching
              ? 'Loading…'
              : `Show ${Math.min(EXTENDED_PREVIEW_ROW_LIMIT, result.totalRows).toLocaleString('en-US')} rows`}
          </button>
        )}
        {more.error && <span className="error-text">{more.error.message}</span>}
      </div>
      <p className={styles.copyStatus} role="status">
        {status}
      </p>
    </>
  );
}
