'use client';

import type { ChatAction } from '@/lib/chat-action';
import type { QueryResultPayload } from '@/lib/chat-message';
import { ExportChips } from './export-chips';

function cellText(value: string | number | boolean | null): string {
  if (value === null) return '';
  return String(value);
}

export function ResultView({ result, onAction, busy }: { result: QueryResultPayload; onAction: (label: string, action: ChatAction) => void; busy: boolean }) {
  return (
    <div className="result">
      <details className="sql">
        <summary>
          Query {result.position} · <span className="sql-title">{result.title}</span> · SQL
        </summary>
        <pre>
          <code>{result.sql}</code>
        </pre>
      </details>
      {result.columns.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`Result of query ${result.position}`}>
          <table>
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
              {result.rows.map((row, rowIndex) => (
                <tr key={rowIndex}>
                  {row.map((value, index) => (
                    <td key={index} className={value === null ? 'null' : result.columns[index]?.numeric ? 'num' : undefined}>
                      {value === null ? 'NULL' : cellText(value)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <p className="result-count">
        {result.totalRows.toLocaleString('en-US')} {result.totalRows === 1 ? 'row' : 'rows'}
        {result.rows.length < result.totalRows ? ` · showing the first ${result.rows.length}` : ''}
      </p>
      <ExportChips queryRunId={result.queryRunId} totalRows={result.totalRows} onAction={onAction} busy={busy} />
    </div>
  );
}
