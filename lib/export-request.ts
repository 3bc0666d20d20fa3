import { z } from 'zod';

// The formats a user can download today. XLSX and ZIP join with the export engine.
export const exportFormatSchema = z.enum(['csv', 'json'], { error: 'Unknown format: choose csv or json.' });
export type ExportFormat = z.infer<typeof exportFormatSchema>;

export const exportRequestSchema = z.object({
  queryRunId: z.string().min(1).max(64),
  format: exportFormatSchema,
});
export type ExportRequest = z.infer<typeof exportRequestSchema>;

export const EXPORT_FORMATS: Record<ExportFormat, { label: string; extension: string; contentType: string; useFor: string }> = {
  csv: { label: 'CSV', extension: 'csv', contentType: 'text/csv; charset=utf-8', useFor: 'opens in any spreadsheet' },
  json: { label: 'JSON', extension: 'json', contentType: 'application/json; charset=utf-8', useFor: 'for code and APIs' },
};

/** Where the browser downloads a query run's full result. */
export function downloadPath(request: ExportRequest): string {
  return `/api/query-runs/${encodeURIComponent(request.queryRunId)}/download?format=${request.format}`;
}
