// Download filenames: safe on every OS, readable, and carried to the browser intact.

const MAX_BASE_LENGTH = 100;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** A filename stem from free text: no separators, control characters or reserved names; ≤ 100 characters. */
export function sanitizeFilenameStem(text: string, fallback = 'export'): string {
  let stem = text
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/[\\/:*?"<>|]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+|[.\s]+$/g, '');
  if (WINDOWS_RESERVED.test(stem.split('.')[0] ?? '')) stem = `_${stem}`;
  // Cut by code points so a surrogate pair is never split.
  const codePoints = Array.from(stem);
  if (codePoints.length > MAX_BASE_LENGTH) stem = codePoints.slice(0, MAX_BASE_LENGTH).join('').trim();
  return stem.length > 0 ? stem : fallback;
}

/** "orders-2026-11-24T08-30-00Z.csv": the stem plus a UTC timestamp, so repeated exports do not clash. */
export function exportFilename(title: string, extension: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  return `${sanitizeFilenameStem(title)}-${stamp}.${extension}`;
}

/** Content-Disposition with an ASCII fallback and an RFC 5987 `filename*` for everything else. */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
