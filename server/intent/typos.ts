// Typo tolerance shared by the intent parser and the described-data reader: a word one edit away
// from a format or export word ("exprot", "jsn") is read as that word.

/** Format words spelled right: never "corrected" into another. */
const KNOWN_FORMAT_WORDS = new Set([
  'csv',
  'csvs',
  'spreadsheet',
  'spreadsheets',
  'sheet',
  'sheets',
  'json',
  'jsonl',
  'ndjson',
  'excel',
  'xlsx',
  'workbook',
  'workbooks',
]);

// Typos are matched against these: one edit away, same first letter (so "son" is not "json").
const TYPO_TARGETS = ['csv', 'json', 'xlsx', 'excel', 'export', 'download', 'spreadsheet'];
const NOT_TYPOS = new Set([
  // The old Excel format: not written here, and not a typo of xlsx.
  'xls',
  'expert',
  'expect',
  'experts',
  'exert',
  'excess',
  'except',
  'expo',
  'jason',
  'son',
  'sheer',
  'cs',
  'xl',
]);

/** Damerau–Levenshtein distance, capped: enough to say "at most one edit". */
function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]! <= 1;
}

export function canonicalWord(token: string): string {
  if (token.length < 3 || KNOWN_FORMAT_WORDS.has(token) || NOT_TYPOS.has(token) || /\d/.test(token)) return token;
  for (const target of TYPO_TARGETS) {
    // Inflections of verbs ("exports", "downloaded") are other words, not typos.
    if ((target === 'export' || target === 'download') && token.startsWith(target)) continue;
    if (token[0] === target[0] && withinOneEdit(token, target)) return target;
  }
  return token;
}
