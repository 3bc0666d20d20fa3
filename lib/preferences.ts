import { z } from 'zod';
import { exportFormatSchema } from './export-request';

/** A user's export preferences: one record, edited by the settings dialog and by "always use json". */
export const preferencesSchema = z.object({
  /** null: ask each time. */
  defaultFormat: exportFormatSchema.nullable(),
  /** A UTF-8 byte-order mark at the start of CSV files, for Excel. */
  csvByteOrderMark: z.boolean(),
  /** JSON files as {"rows": [...], "metadata": {...}}. */
  includeMetadata: z.boolean(),
  /** A leading apostrophe on CSV text that a spreadsheet would run as a formula. */
  neutraliseFormulas: z.boolean(),
  /** JSON integers beyond ±2^53 as strings (JavaScript's JSON.parse would round them). */
  jsonBigIntegersAsText: z.boolean(),
});
export type Preferences = z.infer<typeof preferencesSchema>;

/** The options that shape an export's bytes, snapshotted when the export is planned. */
export const exportOptionsSchema = preferencesSchema.pick({
  csvByteOrderMark: true,
  includeMetadata: true,
  neutraliseFormulas: true,
  jsonBigIntegersAsText: true,
});
export type ExportOptions = z.infer<typeof exportOptionsSchema>;

export const preferencesUpdateSchema = preferencesSchema
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, 'Change at least one setting.');
export type PreferencesUpdate = z.infer<typeof preferencesUpdateSchema>;

export const DEFAULT_PREFERENCES: Preferences = {
  defaultFormat: null,
  csvByteOrderMark: false,
  includeMetadata: false,
  neutraliseFormulas: true,
  jsonBigIntegersAsText: false,
};
