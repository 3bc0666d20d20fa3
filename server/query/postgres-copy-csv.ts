// The fast CSV path on PostgreSQL: `COPY (…) TO STDOUT (FORMAT csv)` does the quoting in C, and the
// SELECT around the user's query rewrites each value into the text the row path writes (csvCell), so
// the bytes match csv-stringify's. COPY quotes exactly the fields csv-stringify quotes (those holding
// , " CR or LF, and empty strings, so that NULL alone is unquoted and empty) with the same doubling of
// quotes; the server turns COPY's LF record ends into CRLF (`crlfRecords` in postgres-source.ts).
// Tests compare both paths byte for byte on hostile values.
// (On SQLite, formatting in SQL ran slower than JavaScript, so SQLite keeps the row path.)

/**
 * PostgreSQL type OIDs whose text the fast path reproduces exactly. No floats: their shortest form
 * differs from JavaScript's in exponent notation; no char(n): its cast to text drops the padding.
 */
export const POSTGRES_COPY_CSV_TYPES: ReadonlySet<number> = new Set([
  16, 17, 20, 21, 23, 25, 1043, 1082, 1114, 1184, 1700,
]);

// Each expression evaluates its value once on the common path (PostgreSQL does not share repeated
// subexpressions); regular expressions run only on rare values.

/**
 * The row path's formula rule (runsAsFormula in encoding.ts): = @ tab or CR first, or + or - first
 * and not a plain number. By code point first: the pattern runs only on text starting with + or -.
 */
const runsAsFormula = (text: string) =>
  `(ascii(${text}) IN (61, 64, 9, 13) OR (ascii(${text}) IN (43, 45) AND ${text} !~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'))`;

function textField(text: string, neutraliseFormulas: boolean): string {
  return neutraliseFormulas ? `CASE WHEN ${runsAsFormula(text)} THEN '''' || ${text} ELSE ${text} END` : text;
}

function copyField(value: string, typeOid: number, neutraliseFormulas: boolean): string {
  switch (typeOid) {
    case 16:
      return `CASE WHEN ${value} THEN 'true' WHEN NOT ${value} THEN 'false' END`;
    case 17:
      // JavaScript: base64 of the bytes, unbroken (PostgreSQL wraps lines at 76 characters).
      return `translate(encode(${value}, 'base64'), E'\\n', '')`;
    case 20:
    case 21:
    case 23:
      // Integers print as exact numbers: never neutralised.
      return value;
    case 1700:
      // Exact numbers keep their minus sign bare; only -Infinity (x + 1 = x) reads as a formula. NaN
      // sorts above every number.
      return neutraliseFormulas
        ? `CASE WHEN ${value} >= 0 OR ${value} + 1 <> ${value} THEN ${value}::text ELSE '''' || ${value}::text END`
        : value;
    case 1082:
      return neutraliseFormulas
        ? `CASE WHEN ${value} = '-infinity'::date THEN '''-infinity' ELSE ${value}::text END`
        : value;
    case 1114:
    case 1184: {
      const type = typeOid === 1114 ? 'timestamp' : 'timestamptz';
      // Finite AD values (nearly all): the space becomes T and, with a time zone, +00 becomes Z
      // (the session runs in UTC). The rest (BC, ±infinity) take the row path's general rewrite.
      const common =
        typeOid === 1114 ? `replace(${value}::text, ' ', 'T')` : `replace(left(${value}::text, -3), ' ', 'T') || 'Z'`;
      const rare = textField(
        `regexp_replace(regexp_replace(${value}::text, ' ', 'T'), '\\+00(:00)?$', 'Z')`,
        neutraliseFormulas,
      );
      return `CASE WHEN ${value} >= '0001-01-01'::${type} AND ${value} < 'infinity'::${type} THEN ${common} ELSE ${rare} END`;
    }
    default:
      // text and varchar
      return textField(value, neutraliseFormulas);
  }
}

/**
 * `COPY (this) TO STDOUT (FORMAT csv)` gives the row path's CSV records, but with LF record ends.
 * Only for two or more columns: COPY quotes a lone `\.` in a one-column file, csv-stringify does not.
 */
export function postgresCopyCsvQuery(sql: string, typeOids: number[], neutraliseFormulas: boolean): string {
  const names = typeOids.map((_, index) => `c${index + 1}`);
  const fields = typeOids.map((oid, index) => copyField(names[index]!, oid, neutraliseFormulas));
  // Columns renamed by position, so duplicate or odd names do not matter; the newline ends a trailing
  // `-- comment` in the user's SQL before the closing parenthesis.
  return `WITH askport_q(${names.join(', ')}) AS (${sql}\n) SELECT ${fields.join(', ')} FROM askport_q`;
}
