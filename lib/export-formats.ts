// The formats and download addresses, without zod: client components import this module, so the
// chat page does not ship a schema library it never runs (the schemas are in export-request.ts).

/** Every file format a user can ask for; `exportFormatSchema` validates against this list. */
export const EXPORT_FORMAT_NAMES = ['csv', 'json', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMAT_NAMES)[number];

/**
 * How an export reaches the person: "stream" downloads at once from the data source; "file" is a job
 * that writes the file with progress, kept for an hour. The server decides (deliveryFor).
 */
export const EXPORT_DELIVERIES = ['stream', 'file'] as const;
export type ExportDelivery = (typeof EXPORT_DELIVERIES)[number];

export const EXPORT_FORMATS: Record<
  ExportFormat,
  { label: string; extension: string; contentType: string; useFor: string }
> = {
  csv: { label: 'CSV', extension: 'csv', contentType: 'text/csv; charset=utf-8', useFor: 'opens in any spreadsheet' },
  json: {
    label: 'JSON',
    extension: 'json',
    contentType: 'application/json; charset=utf-8',
    useFor: 'for code and APIs',
  },
  xlsx: {
    label: 'Excel',
    extension: 'xlsx',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    useFor: 'a typed Excel workbook',
  },
};

/** Where the browser downloads a query run's full result directly (the suggested chips). */
export function downloadPath(request: { queryRunId: string; format: ExportFormat }): string {
  return `/api/query-runs/${encodeURIComponent(request.queryRunId)}/download?format=${request.format}`;
}

/** Where the browser downloads an export the assistant prepared (one file, or a ZIP). */
export function exportDownloadPath(exportId: string): string {
  return `/api/exports/${encodeURIComponent(exportId)}/download`;
}
