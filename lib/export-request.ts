import { z } from 'zod';

/** Every file format a user can ask for. */
export const exportFormatSchema = z.enum(['csv', 'json', 'xlsx'], { error: 'Unknown format: choose csv, json or xlsx.' });
export type ExportFormat = z.infer<typeof exportFormatSchema>;

export const exportRequestSchema = z.object({
  queryRunId: z.string().min(1).max(64),
  format: exportFormatSchema,
});
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export const EXPORT_FORMATS: Record<ExportFormat, { label: string; extension: string; contentType: string; useFor: string }> = {
  csv: { label: 'CSV', extension: 'csv', contentType: 'text/csv; charset=utf-8', useFor: 'opens in any spreadsheet' },
  json: { label: 'JSON', extension: 'json', contentType: 'application/json; charset=utf-8', useFor: 'for code and APIs' },
  xlsx: { label: 'Excel', extension: 'xlsx', contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', useFor: 'a typed Excel workbook' },
};

/** Where the browser downloads a query run's full result directly (the suggested chips). */
export function downloadPath(request: ExportRequest): string {
  return `/api/query-runs/${encodeURIComponent(request.queryRunId)}/download?format=${request.format}`;
}

/** Where the browser downloads an export the assistant prepared (one file, or a ZIP). */
export function exportDownloadPath(exportId: string): string {
  return `/api/exports/${encodeURIComponent(exportId)}/download`;
}
