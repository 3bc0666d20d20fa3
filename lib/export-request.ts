import { z } from 'zod';
import { idSchema } from './ids';
import { EXPORT_DELIVERIES, EXPORT_FORMAT_NAMES } from './export-formats';

export {
  EXPORT_DELIVERIES,
  EXPORT_FORMAT_NAMES,
  EXPORT_FORMATS,
  downloadPath,
  exportDownloadPath,
  type ExportDelivery,
  type ExportFormat,
} from './export-formats';

/** Every file format a user can ask for. */
export const exportFormatSchema = z.enum(EXPORT_FORMAT_NAMES, { error: 'Unknown format: choose csv, json or xlsx.' });

export const exportDeliverySchema = z.enum(EXPORT_DELIVERIES);

/** One of the user's exports (progress, cancel, "Export again"). */
export const exportIdInputSchema = z.object({ exportId: idSchema });

/** History's "Export selected as ZIP": each in one format, or each in its own ("own"). */
export const exportQueriesInputSchema = z.object({
  queryRunIds: z.array(idSchema).min(1, 'Select at least one query.').max(50),
  format: z.union([exportFormatSchema, z.literal('own')]),
});
export type ExportQueriesInput = z.infer<typeof exportQueriesInputSchema>;

/** POST /api/v1/exports: SQL to export as a file, answered with the file. */
export const apiExportRequestSchema = z.object({
  sql: z.string({ error: 'Send the query as "sql".' }).min(1, 'The query is empty.'),
  format: exportFormatSchema,
  title: z.string().min(1).max(100).optional(),
});
export type ApiExportRequest = z.infer<typeof apiExportRequestSchema>;
