import { z } from 'zod';
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
