import { stringify } from 'csv-stringify/sync';
import { encodingRuntime, type EncoderOptions } from './encoding';

export type { EncodableFormat, EncoderOptions, ExportEncoder, ExportMetadata } from './encoding';

export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = {
  csvByteOrderMark: false,
  neutraliseFormulas: true,
  includeMetadata: false,
  jsonBigIntegersAsText: false,
};

// One instance for the server; the SQLite query processes build their own from the same source.
export const {
  JSON_FORMAT_VERSION,
  createCsvEncoder,
  createJsonEncoder,
  createEncoder,
  uniqueKeys,
  isNumericKind,
  cellText,
  csvCell,
  jsonValue,
} = encodingRuntime(stringify);
