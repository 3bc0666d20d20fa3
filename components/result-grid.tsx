'use client';

import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { QueryResultPayload } from '@/lib/chat-message';

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

/**
 * The preview table as a grid: one cell is in the tab order, arrow keys, Home/End and Page Up/Down
 * move between cells, Enter or Ctrl+C copies the focused cell (a double-click copies too), and a
 * status line says what was copied.
 */
export function ResultGrid({ result }: { result: QueryResultPayload }) {
  const [active, setActive] = useState<[number, number]>([0, 0]);
  const [status, setStatus] = useState('');
  const table = useRef<HTMLTableElement>(null);
  const moved = useRef(false);
  const rowCount = result.rows.length;
  const columnCount = result.columns.length;

  useEffect(() => {
    if (!moved.current) return;
    table.current?.querySelector<HTMLElement>(`[data-cell="${active[0]}:${active[1]}"]`)?.focus();
  }, [active]);

  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(() => setStatus(''), 4_000);
    return () => clearTimeout(timer);
  }, [status]);

  async function copy(row: number, column: number) {
    const value = result.rows[row]?.[column] ?? null;
    const text = cellText(value);
    const name = result.columns[column]?.name ?? '';
    const copied = await copyText(text);
    setStatus(copied ? `Copied ${value === null ? 'an empty value (NULL)' : `“${text.length > 60 ? `${text.slice(0, 60)}…` : text}”`} from ${name}, row ${row + 1}.` : 'Your browser did not allow copying; select the text instead.');
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
      moved.current = true;
      setActive(target);
      return;
    }
    const copyKey = event.key === 'Enter' || ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c' && !window.getSelection()?.toString());
    if (copyKey) {
      event.preventDefault();
      void copy(row, column);
    }
  }

  return (
    <>
      <div className="table-wrap" role="region" aria-label={`Result of query ${result.position}`}>
        <table ref={table} role="grid" aria-rowcount={rowCount + 1} aria-colcount={columnCount} aria-describedby={`grid-help-${result.queryRunId}`} onKeyDown={onKeyDown}>
          <thead>
            <tr>
              {result.columns.map((column, index) => (
                <th key={index} scope="col" className={column.numeric ? 'num' : undefined}>
                  {column.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rowCount === 0 && (
              <tr>
                <td colSpan={Math.max(1, columnCount)} className="empty-result">
                  No rows
                </td>
              </tr>
            )}
            {result.rows.map((row, rowIndex) => (
              <tr key={rowIndex}>
                {row.map((value, index) => {
                  const isActive = active[0] === rowIndex && active[1] === index;
                  const kind = value === null ? 'null' : result.columns[index]?.numeric ? 'num' : '';
                  return (
                    <td
                      key={index}
                      data-cell={`${rowIndex}:${index}`}
                      tabIndex={isActive ? 0 : -1}
                      className={`${kind}${isActive ? ' active' : ''}`.trim() || undefined}
                      onFocus={() => setActive([rowIndex, index])}
                      onDoubleClick={() => void copy(rowIndex, index)}
                    >
                      {value === null ? 'NULL' : cellText(value)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p id={`grid-help-${result.queryRunId}`} className="visually-hidden">
        Arrow keys move between cells; Enter copies the cell.
      </p>
      <p className="copy-status" role="status">
        {status}
      </p>
    </>
  );
}
