import { z } from 'zod';
import { EXPORT_STATUSES } from './export-progress';
import { exportFormatSchema } from './export-request';

const exportStatusFilterSchema = z.enum(EXPORT_STATUSES);

export const historyFilterSchema = z.object({
  status: exportStatusFilterSchema.nullable().default(null),
  format: exportFormatSchema.nullable().default(null),
});
export type HistoryFilter = z.infer<typeof historyFilterSchema>;

/** Jobs finished since `after` (the previous answer's time), for the toasts. */
export const finishedExportsInputSchema = z.object({ after: z.date().nullable() });

/** Exports kept per user; the cleanup task removes older records and their files. */
export const HISTORY_KEEP_PER_USER = 100;
