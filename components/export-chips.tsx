import { EXPORT_FORMATS, downloadPath, type ExportFormat } from '@/lib/export-request';

// Suggested exports are data: one entry per format, rendered the same way everywhere.
const SUGGESTED_FORMATS: ExportFormat[] = ['csv', 'json', 'xlsx'];

export function ExportChips({ queryRunId, totalRows }: { queryRunId: string; totalRows: number }) {
  const rows = `${totalRows.toLocaleString('en-US')} ${totalRows === 1 ? 'row' : 'rows'}`;
  return (
    <div className="chips" role="group" aria-label="Export this result">
      <span className="chips-label">Export</span>
      {SUGGESTED_FORMATS.map((format) => {
        const info = EXPORT_FORMATS[format];
        const description = `Download all ${rows} as ${info.label} (${info.useFor})`;
        return (
          <a key={format} className="chip" href={downloadPath({ queryRunId, format })} download aria-label={description} data-hint={`${info.label} · ${rows}`} data-format={format}>
            {info.label}
          </a>
        );
      })}
    </div>
  );
}
