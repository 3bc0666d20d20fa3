import type { CatalogColumn, CatalogTable, SchemaCatalog } from './catalog';
import { quoteIdentifier } from './catalog';
import { readDateRange } from './date-range';
import { canonicalWord } from './typos';

// The offline reader of described data: "the customers in Canada", "this year's orders", "the 5
// largest orders", "how many products per category". It reads a message against the data source's
// own catalog (tables, column roles, sampled values), so it works on schemas it has never seen, and
// builds one SELECT from what it understood. Anything it cannot place is not guessed: it says what it
// understood and what it could not, and the chat asks.

export type DataDescription =
  | { kind: 'query'; sql: string; title: string; understood: string }
  | { kind: 'unclear'; understood: string | null; problem: string; tables: string[]; readings: Reading[] };

/** A possible reading of an unclear message, offered as a chip. */
export interface Reading {
  label: string;
  sql: string;
}

/** Words that carry no description of data: requests, formats, references, politeness, glue. */
const NOISE = new Set(
  `a an the this that these those it them its their my our your me us i we you please pls plz can could would will
  should you'd i'd like want need get give send make put export exporting exported download downloading save
  dump grab pull fetch show list display see view find open run query queries result results answer table tables
  data rows row records record entries entry everything all every each any some of for to into in as on at
  with from and or by per file files copy version format csv json excel xlsx spreadsheet sheet sheets workbook
  raw now then just only also too here there is are be was were have has do does how many much number count
  what which who tell again thanks thank ok okay yes sure hey hi so up out one ones whole entire full complete
  zip archive up not no instead rather actually wait sorry don't dont`.split(/\s+/),
);
/** Words that ask for data: what follows them is what is asked for. */
const REQUEST_VERBS = new Set(
  `export download save dump send give get grab pull fetch email want need show list display find count see view
  open put make exporting downloading`.split(/\s+/),
);
/** Words that point at an earlier result rather than describe data. */
const POINTING = new Set(['this', 'that', 'these', 'those', 'it', 'them']);
const REFERENCES = new Set(
  `result results table tables query queries data everything output answer answers rows one ones last latest
  previous prior first second third fourth fifth sixth seventh eighth ninth tenth same other`.split(/\s+/),
);
/** Skipped on the way to the head of what is asked for: "export me all of the …". */
const LEAD_WORDS = new Set(
  `me us i a an the all every each of my our just only please can could you would like to how many much number
  what which as in into csv json excel xlsx spreadsheet sheet sheets workbook file files copy version format zip
  up not no instead rather actually wait sorry don't dont some any whole entire full complete`.split(/\s+/),
);

/** Words that only glue a filter to its value: "customers in Canada", "orders that are refunded". */
const VALUE_GLUE = new Set(
  `in from with where whose that which who are is were was have has had since between after before until till during
  within on of type kind status category having been being based located living live lives`.split(/\s+/),
);
/** Verbs that only attach a date to rows: "orders placed yesterday", "customers who joined this year". */
const DATE_VERBS = new Set(
  `placed made created joined signed registered happened occurred logged recorded added submitted started opened`.split(
    /\s+/,
  ),
);

const COUNTRY_ALIASES: Record<string, string> = {
  usa: 'US',
  us: 'US',
  america: 'US',
  'united states of america': 'US',
  uk: 'GB',
  britain: 'GB',
  'great britain': 'GB',
  england: 'GB',
  holland: 'NL',
};

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

function singular(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && word.length > 3) return word.slice(0, -1);
  return word;
}

/** A word or phrase as compared: lower case, underscores and dashes as spaces, each word singular. */
function key(phrase: string): string {
  return phrase
    .toLowerCase()
    .normalize('NFKC')
    .replace(/['’]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .map(singular)
    .join(' ');
}

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

interface Token {
  word: string;
  /** The word as typed (values keep their case). */
  raw: string;
  used: boolean;
}

function tokenize(text: string): Token[] {
  const cleaned = text
    .normalize('NFKC')
    .replace(/[’‘`]/g, "'")
    .replace(/(\d),(\d{3})\b/g, '$1$2')
    .replace(/\.(csv|json|xlsx|xls)\b/gi, ' $1 ');
  const words = cleaned.match(/\$?\d+(?:\.\d+)?|[\p{L}][\p{L}\p{N}_]*(?:'[\p{L}]+)?|[<>]=?/gu) ?? [];
  return words.map((raw) => {
    const word = canonicalWord(raw.toLowerCase().replace(/^\$/, '').replace(/'s$/, ''));
    return { word, raw, used: false };
  });
}

/** Everyday words ("in", "us", "no") are values only when typed as codes: "IN", "US". */
function canBeValue(token: Token): boolean {
  if (REQUEST_VERBS.has(token.word) && !token.used) return true;
  const everyday = NOISE.has(token.word) || VALUE_GLUE.has(token.word) || LEAD_WORDS.has(token.word);
  return !everyday || (token.raw.length <= 3 && token.raw === token.raw.toUpperCase());
}

/** Each table's names as people say them: "order_items", "order items", "order item". */
function tableKeys(table: CatalogTable): string[] {
  return [...new Set([key(table.name), key(table.name.replace(/_/g, ''))])];
}

/** Generic words for common tables, used only when exactly one table fits. */
const TABLE_SYNONYMS: Record<string, string[]> = {
  client: ['customer', 'account', 'user'],
  buyer: ['customer'],
  shopper: ['customer'],
  user: ['customer', 'member', 'account'],
  sale: ['order'],
  purchase: ['order'],
  activity: ['event'],
  item: ['product'],
  good: ['product'],
  article: ['product'],
  line: ['order item'],
};

interface ValueMatch {
  column: CatalogColumn;
  value: string;
}

/** A column's values by how people say them, country codes also by their names. */
function valueKeys(column: CatalogColumn): Map<string, string> {
  const keys = new Map<string, string>();
  for (const value of column.values ?? []) {
    keys.set(key(value), value);
    if (/^[A-Z]{2}$/.test(value)) {
      const name = regionNames.of(value);
      if (name && name !== value) keys.set(key(name), value);
    }
  }
  if ([...keys.values()].some((value) => /^[A-Z]{2}$/.test(value)))
    for (const [alias, code] of Object.entries(COUNTRY_ALIASES))
      if ((column.values ?? []).includes(code)) keys.set(key(alias), code);
  return keys;
}

/** Finds phrases of up to three words among the unused tokens that `lookup` knows. */
function findPhrases<T>(
  tokens: Token[],
  lookup: (phrase: string) => T | undefined,
  usable: (token: Token) => boolean = () => true,
): Array<{ at: number[]; found: T }> {
  const hits: Array<{ at: number[]; found: T }> = [];
  for (let size = 3; size >= 1; size--) {
    for (let start = 0; start + size <= tokens.length; start++) {
      const span = tokens.slice(start, start + size);
      // Everyday words are checked alone; inside a longer phrase ("page view") they are part of it.
      if (span.some((token) => token.used) || (size === 1 && !usable(span[0]!))) continue;
      const found = lookup(key(span.map((token) => token.word).join(' ')));
      if (found === undefined) continue;
      for (const token of span) token.used = true;
      hits.push({ at: span.map((_, offset) => start + offset), found });
    }
  }
  return hits.sort((a, b) => a.at[0]! - b.at[0]!);
}

const MORE = /^(above|over|exceeding|exceeds|more|greater|higher|larger|bigger|costlier|pricier|after|>|>=|least)$/;
const LESS = /^(below|under|less|lower|smaller|cheaper|fewer|before|<|<=|most)$/;
const BIGGEST = /^(largest|biggest|highest|top|priciest|costliest|most)$/;
const SMALLEST = /^(smallest|lowest|cheapest|least)$/;
const NEWEST = /^(newest|latest|recent|last)$/;
const OLDEST = /^(oldest|earliest|first)$/;
const PRICE_WORDS = /^(cheap|cheaper|cheapest|expensive|pricier|priciest|costly|costlier|costliest|price|cost)$/;

function numericColumns(table: CatalogTable): CatalogColumn[] {
  return table.columns.filter((column) => column.role === 'number');
}

/** The numeric column a comparison or an order means: named in the text, price-like, or the only one. */
function obviousNumber(table: CatalogTable, named: CatalogColumn | null, priceWord: boolean): CatalogColumn | null {
  if (named?.role === 'number') return named;
  const numbers = numericColumns(table);
  if (priceWord) {
    const priced = numbers.filter((column) => /price|cost|amount/.test(column.name.toLowerCase()));
    if (priced.length === 1) return priced[0]!;
  }
  return numbers.length === 1 ? numbers[0]! : null;
}

function obviousDate(table: CatalogTable, words: string[]): CatalogColumn | null {
  const dates = table.columns.filter((column) => column.role === 'date');
  if (dates.length <= 1) return dates[0] ?? null;
  const named = dates.filter((column) =>
    key(column.name)
      .split(' ')
      .some((part) => part.length > 2 && words.some((word) => word.startsWith(part.slice(0, 5)))),
  );
  return named.length === 1 ? named[0]! : null;
}

interface Understanding {
  table: CatalogTable;
  filters: string[];
  notes: string[];
  columns: CatalogColumn[];
  groupBy: CatalogColumn | null;
  count: boolean;
  order: { column: CatalogColumn; descending: boolean } | null;
  limit: number | null;
}

function unclear(
  catalog: SchemaCatalog,
  problem: string,
  understood: string | null,
  tables: string[] = catalog.tables.map((table) => table.name),
  readings: Reading[] = [],
): DataDescription {
  return { kind: 'unclear', understood, problem, tables, readings };
}

/**
 * Reads the data a message describes. Null when it describes none (nothing but a request, a format
 * and words like "this" or "the results"): the message then points at an earlier result.
 */
export function describeData(text: string, catalog: SchemaCatalog, now: Date): DataDescription | null {
  const dates = readDateRange(text, now);
  // Date words are read by the date reader: blank them out for the rest.
  let rest = text;
  if (dates && dates !== 'ambiguous')
    for (const [start, end] of dates.spans) rest = rest.slice(0, start) + ' '.repeat(end - start) + rest.slice(end);
  const tokens = tokenize(rest);
  const words = tokens.map((token) => token.word);
  const isCount = /\bhow many\b|\bcount\b|\bnumber of\b/i.test(text);

  // What is asked for starts after the request verb: "export [me all of] the customers in Canada".
  const verbAt = tokens.findIndex((token) => REQUEST_VERBS.has(token.word));
  if (verbAt >= 0) tokens[verbAt]!.used = true;
  const head = tokens.slice(verbAt + 1).find((token) => !LEAD_WORDS.has(token.word) && !/^\d/.test(token.word));
  if (head && POINTING.has(head.word)) return null;

  // Tables named, by name or (when only one fits) by a synonym.
  const byKey = new Map<string, CatalogTable>();
  for (const table of catalog.tables) for (const name of tableKeys(table)) byKey.set(name, table);
  let tableHits = findPhrases(tokens, (phrase) => byKey.get(phrase));
  if (tableHits.length === 0) {
    tableHits = findPhrases(tokens, (phrase) => {
      const fits = (TABLE_SYNONYMS[phrase] ?? []).flatMap((synonym) =>
        byKey.get(synonym) ? [byKey.get(synonym)!] : [],
      );
      return fits.length === 1 ? fits[0] : undefined;
    });
  }
  const namedTables = [...new Set(tableHits.map((hit) => hit.found))];

  const content = () =>
    tokens.filter(
      (token) =>
        !token.used &&
        !NOISE.has(token.word) &&
        !REFERENCES.has(token.word) &&
        !/^\d/.test(token.word) &&
        token.word.length > 1,
    );
  const hasDate = dates !== null;
  if (namedTables.length === 0) {
    // Values alone can point at a table ("the refunded ones"): read them, but confirm before acting.
    const candidates = content();
    const valueTables: Array<{ table: CatalogTable; match: ValueMatch }> = [];
    for (const table of catalog.tables)
      for (const column of table.columns) {
        const keys = valueKeys(column);
        for (const token of candidates) {
          if (!canBeValue(token)) continue;
          const value = keys.get(key(token.word));
          if (value !== undefined) valueTables.push({ table, match: { column, value } });
        }
      }
    // Nothing names data: "export the last query", "csv please". An unknown word right where the
    // data should be named ("export the sales by region") is asked about rather than ignored.
    const headAt = head ? tokens.indexOf(head) : -1;
    const unknownHead =
      verbAt >= 0 &&
      head !== undefined &&
      !REFERENCES.has(head.word) &&
      (!NOISE.has(head.word) || candidates.includes(tokens[headAt + 1]!));
    if (valueTables.length === 0 && !hasDate && !unknownHead) return null;
    const quoted = candidates.map((token) => `"${token.raw}"`).join(', ');
    const readings = valueTables.slice(0, 4).map(({ table, match }) => ({
      label: `${table.name} where ${match.column.name} is ${match.value}`,
      sql: `SELECT * FROM ${quoteIdentifier(table.name)} WHERE ${quoteIdentifier(match.column.name)} = ${sqlString(match.value)}`,
    }));
    if (candidates.length === 0)
      return unclear(
        catalog,
        'I can tell the dates you mean, but not which table.',
        dates === 'ambiguous' || dates === null ? null : dates.label,
      );
    return unclear(
      catalog,
      readings.length > 0
        ? `I am not sure which data ${quoted} means: it could be ${readings.map((reading) => reading.label).join(', or ')}.`
        : `I can't tell which table ${quoted} means offline.`,
      null,
      readings.length > 0 ? [...new Set(valueTables.map(({ table }) => table.name))] : undefined,
      readings,
    );
  }
  if (namedTables.length > 1)
    return unclear(
      catalog,
      `That needs ${namedTables.map((table) => table.name).join(' and ')} together (a join), which I don't write offline.`,
      null,
      namedTables.map((table) => table.name),
    );

  const table = namedTables[0]!;
  const understanding: Understanding = {
    table,
    filters: [],
    notes: [],
    columns: [],
    groupBy: null,
    count: isCount,
    order: null,
    limit: null,
  };
  const columnByKey = new Map<string, CatalogColumn>();
  for (const column of table.columns) {
    columnByKey.set(key(column.name), column);
    // "ordered_at" is also "ordered", "unit_price" also "unit price".
    const stem = key(column.name.replace(/_(at|on|id)$/i, ''));
    if (!columnByKey.has(stem)) columnByKey.set(stem, column);
  }
  // …and each part of a name when only one column has it: "published" (published_year), "fee" (late_fee).
  const parts = new Map<string, CatalogColumn[]>();
  for (const column of table.columns)
    for (const part of key(column.name).split(' '))
      if (part.length > 2 && part !== 'id') parts.set(part, [...(parts.get(part) ?? []), column]);
  for (const [part, columns] of parts)
    if (columns.length === 1 && !columnByKey.has(part)) columnByKey.set(part, columns[0]!);

  // Group by: "by type", "per category", "for each country".
  for (let index = 0; index < tokens.length - 1; index++) {
    if (!['by', 'per', 'each'].includes(tokens[index]!.word)) continue;
    const column = columnByKey.get(key(tokens[index + 1]!.word));
    if (!column) continue;
    if (!isCount && tokens[index]!.word === 'by' && column.role !== 'text') continue;
    understanding.groupBy = column;
    understanding.count = true;
    tokens[index + 1]!.used = true;
  }

  // Values of this table's columns: "in Canada or Australia", "refunded", "Outdoor".
  const valueLookup = new Map<string, ValueMatch[]>();
  for (const column of table.columns)
    for (const [phrase, value] of valueKeys(column))
      valueLookup.set(phrase, [...(valueLookup.get(phrase) ?? []), { column, value }]);
  const valueHits = findPhrases(tokens, (phrase) => valueLookup.get(phrase), canBeValue);
  const byColumn = new Map<CatalogColumn, string[]>();
  for (const hit of valueHits) {
    if (hit.found.length > 1)
      return unclear(
        catalog,
        `"${hit.at.map((at) => tokens[at]!.raw).join(' ')}" is a value of ${hit.found.map((match) => match.column.name).join(' and of ')} in ${table.name}: which one do you mean?`,
        null,
        [table.name],
        hit.found.map((match) => ({
          label: `${table.name} where ${match.column.name} is ${match.value}`,
          sql: `SELECT * FROM ${quoteIdentifier(table.name)} WHERE ${quoteIdentifier(match.column.name)} = ${sqlString(match.value)}`,
        })),
      );
    const { column, value } = hit.found[0]!;
    // "of type page view", "with status refunded": the column's name belongs to its value.
    for (const offset of [-3, -2, -1, hit.at.length, hit.at.length + 1]) {
      const near = tokens[hit.at[0]! + offset];
      if (near && !near.used && columnByKey.get(key(near.word)) === column) near.used = true;
    }
    byColumn.set(column, [...new Set([...(byColumn.get(column) ?? []), value])]);
  }
  for (const [column, values] of byColumn) {
    const quoted = quoteIdentifier(column.name);
    understanding.filters.push(
      values.length === 1
        ? `${quoted} = ${sqlString(values[0]!)}`
        : `${quoted} IN (${values.map(sqlString).join(', ')})`,
    );
    understanding.notes.push(`${column.name} ${values.length === 1 ? 'is' : 'is one of'} ${values.join(', ')}`);
  }

  // Columns named: for projection ("the names of", "id and status of"), comparisons and order.
  const mentioned: Array<{ at: number; column: CatalogColumn }> = [];
  tokens.forEach((token, index) => {
    if (token.used) return;
    const column = columnByKey.get(key(token.word));
    if (column) mentioned.push({ at: index, column });
  });

  // Numeric comparisons: "above 1000", "cheaper than 50", "between 10 and 20", "at least 3".
  const priceWord = words.some((word) => PRICE_WORDS.test(word));
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.used || !/^\d/.test(token.word)) continue;
    const number = Number(token.word);
    if (!Number.isFinite(number)) continue;
    const lead = tokens.slice(Math.max(0, index - 3), index).map((previous) => previous.word);
    const nearColumn =
      mentioned.find((entry) => Math.abs(entry.at - index) <= 4 && entry.column.role === 'number')?.column ?? null;
    const between =
      lead.at(-1) === 'between' && tokens[index + 1]?.word === 'and' && /^\d/.test(tokens[index + 2]?.word ?? '');
    let operator: string | null = null;
    if (between) operator = 'between';
    else if (lead.some((word) => /^(least|minimum|min)$/.test(word)) || lead.includes('>=')) operator = '>=';
    else if (lead.some((word) => /^(most|maximum|max)$/.test(word)) || lead.includes('<=')) operator = '<=';
    else if (lead.some((word) => MORE.test(word))) operator = '>';
    else if (lead.some((word) => LESS.test(word))) operator = '<';
    if (!operator) continue;
    const column = obviousNumber(table, nearColumn, priceWord);
    if (!column)
      return unclear(
        catalog,
        `I can't tell which number of ${table.name} "${token.raw}" is compared with (${numericColumns(table)
          .map((candidate) => candidate.name)
          .join(', ')}).`,
        null,
        [table.name],
      );
    token.used = true;
    for (const entry of mentioned) if (entry.column === column) tokens[entry.at]!.used = true;
    for (const previous of tokens.slice(Math.max(0, index - 3), index)) previous.used = true;
    const quoted = quoteIdentifier(column.name);
    if (operator === 'between') {
      const upper = Number(tokens[index + 2]!.word);
      tokens[index + 1]!.used = true;
      tokens[index + 2]!.used = true;
      understanding.filters.push(`${quoted} BETWEEN ${number} AND ${upper}`);
      understanding.notes.push(`${column.name} between ${number} and ${upper}`);
    } else {
      understanding.filters.push(`${quoted} ${operator} ${number}`);
      understanding.notes.push(`${column.name} ${operator} ${number}`);
    }
  }

  // Order and limit: "the 5 largest orders", "top 10", "the 3 cheapest products", "10 newest".
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    const word = token.word;
    const superlative =
      BIGGEST.test(word) || SMALLEST.test(word) || NEWEST.test(word) || OLDEST.test(word) || word === 'expensive';
    if (!superlative || token.used) continue;
    // "the 5 most recent": the count may sit before "most".
    if (word === 'most' && tokens[index + 1] && NEWEST.test(tokens[index + 1]!.word)) continue;
    const behind = tokens[index - 1]?.word === 'most' ? tokens[index - 2] : tokens[index - 1];
    const limitToken = [behind, tokens[index + 1]].find((near) => near && /^\d+$/.test(near.word) && !near.used);
    if (tokens[index - 1]?.word === 'most') tokens[index - 1]!.used = true;
    if (word === 'last' || word === 'first') if (!limitToken) continue;
    let column: CatalogColumn | null;
    let descending: boolean;
    if (NEWEST.test(word) || OLDEST.test(word)) {
      column = obviousDate(table, words);
      descending = NEWEST.test(word);
    } else {
      const expensive = word === 'expensive' || word === 'priciest' || word === 'costliest';
      column = obviousNumber(table, null, priceWord || expensive);
      descending = word === 'expensive' ? tokens[index - 1]?.word !== 'least' : BIGGEST.test(word);
    }
    if (word === 'most' || word === 'least') {
      const nextColumn = columnByKey.get(key(tokens[index + 1]?.word ?? ''));
      if (tokens[index + 1]?.word !== 'expensive' && !nextColumn) continue;
      if (nextColumn) column = nextColumn.role === 'number' ? nextColumn : null;
      if (tokens[index + 1]) tokens[index + 1]!.used = true;
      descending = word === 'most';
    }
    if (!column)
      return unclear(catalog, `I can't tell what "${word}" ranks ${table.name} by offline.`, null, [table.name]);
    token.used = true;
    if (limitToken) {
      limitToken.used = true;
      understanding.limit = Math.min(Number(limitToken.word), 100_000);
    }
    understanding.order = { column, descending };
    understanding.notes.push(
      `${descending ? 'highest' : 'lowest'} ${column.name} first${understanding.limit ? `, ${understanding.limit} rows` : ''}`,
    );
  }
  if (!understanding.limit) {
    const top = tokens.findIndex((token) => token.word === 'top' || token.word === 'first');
    const count = tokens[top + 1];
    if (top >= 0 && count && /^\d+$/.test(count.word) && !count.used) {
      count.used = true;
      tokens[top]!.used = true;
      understanding.limit = Math.min(Number(count.word), 100_000);
      if (!understanding.order) {
        const date = obviousDate(table, words);
        understanding.order = tokens[top]!.word === 'first' && date ? { column: date, descending: false } : null;
      }
    }
  }

  // Dates, on the table's date column.
  if (dates === 'ambiguous')
    return unclear(catalog, 'I read more than one date range there and will not guess which applies.', null, [
      table.name,
    ]);
  if (dates) {
    const column = obviousDate(table, words);
    if (!column) {
      const candidates = table.columns.filter((candidate) => candidate.role === 'date');
      return unclear(
        catalog,
        candidates.length === 0
          ? `${table.name} has no date column I can filter by ${dates.label}.`
          : `I can't tell which date of ${table.name} ${dates.label} applies to (${candidates.map((candidate) => candidate.name).join(' or ')}).`,
        null,
        [table.name],
      );
    }
    const quoted = quoteIdentifier(column.name);
    if (dates.from) understanding.filters.push(`${quoted} >= ${sqlString(dates.from)}`);
    if (dates.to) understanding.filters.push(`${quoted} < ${sqlString(dates.to)}`);
    understanding.notes.push(`${column.name} in ${dates.label}`);
    for (const token of tokens) if (columnByKey.get(key(token.word)) === column) token.used = true;
  }

  // Projection: columns named and not used above ("the names and emails of customers").
  for (const entry of mentioned) {
    const token = tokens[entry.at]!;
    if (token.used) continue;
    token.used = true;
    if (!understanding.columns.includes(entry.column)) understanding.columns.push(entry.column);
  }

  const unexplained = content().filter(
    (token) => !VALUE_GLUE.has(token.word) && !(dates && DATE_VERBS.has(token.word)),
  );
  if (unexplained.length > 0) {
    const quoted = unexplained.map((token) => `"${token.raw}"`).join(', ');
    return unclear(
      catalog,
      `I can't tell what ${quoted} means in ${table.name} offline.`,
      describeUnderstanding(understanding),
      [table.name],
      [{ label: `all of ${table.name}`, sql: `SELECT * FROM ${quoteIdentifier(table.name)}` }],
    );
  }
  return { kind: 'query', ...buildQuery(understanding), understood: describeUnderstanding(understanding) };
}

function describeUnderstanding(understanding: Understanding): string {
  const parts = [understanding.count ? `the number of ${understanding.table.name}` : understanding.table.name];
  if (understanding.groupBy) parts.push(`by ${understanding.groupBy.name}`);
  if (understanding.notes.length > 0) parts.push(`where ${understanding.notes.join(', ')}`);
  if (understanding.columns.length > 0 && !understanding.count)
    parts.push(`(${understanding.columns.map((column) => column.name).join(', ')})`);
  return parts.join(' ');
}

function buildQuery(understanding: Understanding): { sql: string; title: string } {
  const table = quoteIdentifier(understanding.table.name);
  const where = understanding.filters.length > 0 ? ` WHERE ${understanding.filters.join(' AND ')}` : '';
  const title = describeUnderstanding(understanding);
  const shortTitle = title.length > 80 ? `${title.slice(0, 77)}...` : title;
  if (understanding.count) {
    if (understanding.groupBy) {
      const group = quoteIdentifier(understanding.groupBy.name);
      return {
        sql: `SELECT ${group}, COUNT(*) AS "count" FROM ${table}${where} GROUP BY ${group} ORDER BY "count" DESC, ${group}`,
        title: shortTitle,
      };
    }
    return { sql: `SELECT COUNT(*) AS "count" FROM ${table}${where}`, title: shortTitle };
  }
  const select =
    understanding.columns.length > 0
      ? understanding.columns.map((column) => quoteIdentifier(column.name)).join(', ')
      : '*';
  const idColumn = understanding.table.columns.find((column) => column.name.toLowerCase() === 'id');
  const order = understanding.order
    ? ` ORDER BY ${quoteIdentifier(understanding.order.column.name)} ${understanding.order.descending ? 'DESC' : 'ASC'}${idColumn ? `, ${quoteIdentifier(idColumn.name)}` : ''}`
    : '';
  const limit = understanding.limit ? ` LIMIT ${understanding.limit}` : '';
  return { sql: `SELECT ${select} FROM ${table}${where}${order}${limit}`, title: shortTitle };
}
