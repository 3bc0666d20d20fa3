import type { Intent, IntentFormat, IntentTarget } from '@/lib/intent';
import type { SchemaCatalog } from './catalog';
import { describeData } from './describe';
import { canonicalWord } from './typos';

// The fallback intent parser: a pure, deterministic function of the text (DESIGN.md §3). It reads
// the message as words, not as whole sentences: format words (typo-tolerant), export verbs, negation
// and correction, references to earlier queries, and a few markers for defaults, cancelling and
// questions. Each rule adds evidence; the strongest evidence sets the confidence.

type Token = string;

const CLAUSE_BREAKS = new Set([',', ';', '.', '!', '?', 'but', 'and', 'then']);
const QUESTION_STARTS = new Set([
  'how',
  'why',
  'what',
  "what's",
  'whats',
  'which',
  'who',
  "who's",
  'whom',
  'whose',
  'when',
  'where',
  'is',
  'are',
  'was',
  'were',
  'does',
  'do',
  'did',
  'should',
  'has',
  'have',
]);
const QUERY_STARTS = new Set([
  'show',
  'list',
  'count',
  'filter',
  'sort',
  'order',
  'find',
  'display',
  'group',
  'sum',
  'average',
  'compare',
  'plot',
  'chart',
  'select',
  'search',
  'top',
  'only',
  'limit',
  'exclude',
  'include',
]);
const STRONG_EXPORT_VERBS = new Set(['export', 'download', 'dump', 'zip', 'convert']);
const SOFT_EXPORT_VERBS = new Set([
  'save',
  'give',
  'get',
  'send',
  'put',
  'make',
  'need',
  'want',
  'open',
  'turn',
  'email',
  'share',
  'generate',
  'create',
  'produce',
  'output',
  'write',
  'store',
  'prepare',
  'like',
  'grab',
  'pull',
  'prefer',
  'use',
  'deliver',
]);
const FORMAT_LEAD_INS = new Set(['as', 'in', 'to', 'into', 'a', 'an']);
const FILE_WORDS = new Set(['file', 'files', 'archive', 'attachment', 'copy']);
const NEGATORS = new Set([
  'not',
  'no',
  'never',
  "don't",
  'dont',
  'without',
  'instead',
  'rather',
  'except',
  "isn't",
  "wasn't",
  'hate',
  'dislike',
  'avoid',
]);
/** Formats people ask for that Askport does not write: the request is still an export, and the app asks which format. */
const UNSUPPORTED_FORMATS = new Set([
  'pdf',
  'tsv',
  'parquet',
  'xml',
  'html',
  'txt',
  'markdown',
  'yaml',
  'avro',
  'ods',
  'numbers',
]);
const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};
const CANCEL_WORDS = new Set(['cancel', 'abort', 'halt', 'terminate', 'stop', 'kill']);
const NOUNS_AFTER_EXPORT = new Set([
  'history',
  'histories',
  'records',
  'record',
  'volume',
  'volumes',
  'log',
  'logs',
  'list',
  'status',
  'statuses',
  'jobs',
  'job',
  'queue',
  'settings',
  'options',
  'formats',
  'limits',
  'limit',
  'speed',
  'page',
  'button',
  'feature',
  'function',
  'market',
  'markets',
  'revenue',
  'sales',
  'duty',
  'duties',
  'license',
  'licence',
  'controls',
]);
const REFERENCE_WORDS = new Set([
  'this',
  'that',
  'it',
  'these',
  'those',
  'them',
  'results',
  'result',
  'table',
  'query',
  'queries',
  'data',
  'everything',
  'output',
  'answer',
  'rows',
]);
const ALL_NOUNS = new Set([
  'queries',
  'query',
  'results',
  'result',
  'tables',
  'them',
  'answers',
  'searches',
  'everything',
  'chats',
]);
const NTH_NOUNS = new Set(['query', 'result', 'one', 'table', 'search', 'answer', 'results', 'queries']);
const ORDINALS: Record<string, number> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  fifth: 5,
  sixth: 6,
  seventh: 7,
  eighth: 8,
  ninth: 9,
  tenth: 10,
  '1st': 1,
  '2nd': 2,
  '3rd': 3,
  '4th': 4,
  '5th': 5,
  '6th': 6,
  '7th': 7,
  '8th': 8,
  '9th': 9,
  '10th': 10,
};
// Saying how every later export should be: needs a format ("always json"), or an explicit setting verb.
const DEFAULT_MARKERS =
  /\b(always|by default|(the|my|as) default|default (export )?format|default to|from now on|going forward|in (the )?future|every time|each time|henceforth|for all future|(as|be) my (usual |preferred |standard )?format|my (usual|preferred|standard) format)\b/;
const SET_DEFAULT_VERB = /\b(set|change|switch|update|reset|make)\b.*\bdefault\b/;
/** Words that carry no request of their own: "json please", "not csv, json", "csv, no wait, json". */
const FILLERS = new Set([
  'please',
  'pls',
  'plz',
  'thanks',
  'thank',
  'you',
  'ok',
  'okay',
  'now',
  'then',
  'instead',
  'wait',
  'no',
  'not',
  'rather',
  'actually',
  'sorry',
  'i',
  'meant',
  'mean',
  'of',
  'than',
  'just',
  'format',
  'file',
  'version',
  'yes',
  'sure',
  'and',
  'but',
  "don't",
  'dont',
  'use',
  'want',
  'go',
  'with',
  'as',
  'in',
  'a',
  'an',
  'the',
  'would',
  'be',
  'great',
  'fine',
  'good',
  'perfect',
  'ideal',
  'better',
  'best',
  'works',
]);

/** Canonical words a token can be read as, with the format each format word stands for. */
const FORMAT_WORDS: Record<string, IntentFormat> = {
  csv: 'csv',
  csvs: 'csv',
  spreadsheet: 'csv',
  spreadsheets: 'csv',
  sheet: 'csv',
  sheets: 'csv',
  json: 'json',
  jsonl: 'json',
  ndjson: 'json',
  excel: 'xlsx',
  xlsx: 'xlsx',
  xls: 'xlsx',
  workbook: 'xlsx',
  workbooks: 'xlsx',
};
/** Lower-cases, folds multi-word format phrases into one word, and splits into words and breaks. */
function tokenize(text: string): Token[] {
  const folded = text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[’‘`]/g, "'")
    .replace(/\bcomma[\s-]*separated(\s+values?)?\b/g, ' csv ')
    .replace(/\bgoogle[\s-]*sheets?\b/g, ' csv ')
    .replace(/\bmachine[\s-]*readable\b/g, ' json ')
    .replace(/\braw data\b/g, ' json ')
    .replace(
      /\bfor (my |our |a |an |the |some )?(code|script|scripts|api|apis|program|programs|app|python|javascript|developers?)\b/g,
      ' json ',
    )
    .replace(/\.(csv|json|xlsx|xls)\b/g, ' $1 ')
    .replace(/\bnever\s*mind\b|\bforget (it|that)\b/g, ' cancel ')
    .replace(/\bdo not\b/g, "don't")
    .replace(/\bmake sure\b/g, ' ');
  const raw = folded.match(/#?\d+(st|nd|rd|th)?|[a-z]+(?:'[a-z]+)?|[,;.!?]/g) ?? [];
  return raw.map(canonicalWord);
}

function formatOf(token: Token): IntentFormat | null {
  return FORMAT_WORDS[token] ?? null;
}

/** Is the format word at `index` negated ("not csv", "instead of json", "don't use json")? */
function isNegated(tokens: Token[], index: number): boolean {
  for (let back = 1; back <= 3 && index - back >= 0; back++) {
    const token = tokens[index - back]!;
    if (CLAUSE_BREAKS.has(token)) return false;
    if (NEGATORS.has(token)) return true;
  }
  return false;
}

interface FormatReading {
  format: IntentFormat | null;
  mentions: number;
  conflicting: boolean;
}

/** The format the user wants: the last one not negated, so a correction wins. */
function readFormat(tokens: Token[]): FormatReading {
  const wanted: IntentFormat[] = [];
  let mentions = 0;
  tokens.forEach((token, index) => {
    const format = formatOf(token);
    if (!format) return;
    // "spreadsheet software", "json column": a format word used to describe something else.
    const next = tokens[index + 1];
    if (
      next &&
      [
        'column',
        'columns',
        'field',
        'fields',
        'software',
        'users',
        'customers',
        'type',
        'types',
        'schema',
        'parser',
      ].includes(next)
    )
      return;
    mentions++;
    if (!isNegated(tokens, index)) wanted.push(format);
  });
  const format = wanted.at(-1) ?? null;
  return { format, mentions, conflicting: new Set(wanted).size > 1 && !hasCorrectionWord(tokens) };
}

function hasCorrectionWord(tokens: Token[]): boolean {
  return tokens.some((token) =>
    ['actually', 'instead', 'rather', 'no', 'not', 'wait', 'sorry', 'correction', 'oops'].includes(token),
  );
}

/** "export" used as a noun: "the export history", "export volume" ("exports" is never the verb here). */
function exportIsNoun(tokens: Token[], index: number): boolean {
  const next = tokens[index + 1];
  return next !== undefined && NOUNS_AFTER_EXPORT.has(next);
}

function hasStrongExportVerb(tokens: Token[]): boolean {
  return tokens.some((token, index) => {
    if (token === 'export' || token === 'exporting') return !exportIsNoun(tokens, index);
    return STRONG_EXPORT_VERBS.has(token);
  });
}

function readTarget(tokens: Token[], text: string): { target: IntentTarget; nth: number | null } {
  const lower = text.toLowerCase();
  // Every query of the chat, delivered as one ZIP.
  const zip = tokens.some(
    (token) =>
      token === 'zip' || token === 'zipped' || token === 'archive' || token === 'batch' || token === 'everything',
  );
  const allOf = tokens.some(
    (token, index) =>
      (token === 'all' || token === 'every' || token === 'each') &&
      tokens.slice(index + 1, index + 4).some((next) => ALL_NOUNS.has(next)),
  );
  if (zip || allOf) return { target: 'all', nth: null };

  if (
    /\b(previous|prior|penultimate|second[\s-]to[\s-]last|second[\s-]last|last but one|one before|before that|before this|before (the )?last)\b/.test(
      lower,
    )
  ) {
    return { target: 'previous', nth: null };
  }

  const numbered =
    /\b(?:query|result|results|table|search|answer|number|no\.?)\s*(?:#|no\.?\s*|number\s*)?(\d{1,4})\b|(?:^|\s)#(\d{1,4})\b/.exec(
      lower,
    );
  const number = numbered ? Number(numbered[1] ?? numbered[2]) : NaN;
  if (Number.isInteger(number) && number > 0) return { target: 'nth', nth: number };

  for (let index = 0; index + 1 < tokens.length; index++) {
    const spelled = NUMBER_WORDS[tokens[index + 1]!];
    if (spelled && ['query', 'result', 'table', 'number'].includes(tokens[index]!))
      return { target: 'nth', nth: spelled };
  }
  for (let index = 0; index < tokens.length; index++) {
    const ordinal = ORDINALS[tokens[index]!];
    if (ordinal && tokens.slice(index + 1, index + 3).some((next) => NTH_NOUNS.has(next)))
      return { target: 'nth', nth: ordinal };
  }
  return { target: 'latest', nth: null };
}

const OTHER = (confidence: number, sql: string | null = null): Intent => ({
  intent: 'other',
  format: null,
  target: null,
  nth: null,
  sql,
  confidence,
});

/** What the parser reads described data against: the data source's catalog and the clock for dates. */
export interface ReadingContext {
  catalog: SchemaCatalog;
  now: Date;
}

/**
 * The intent of a message. With a reading context, an export that describes its data ("the
 * customers in Canada") is `described`, with the SQL the offline reader derived (null when it could
 * not: the chat then asks), and a question it could answer carries its SQL.
 */
export function parseIntent(text: string, context?: ReadingContext): Intent {
  const intent = parseRequest(text);
  if (!context) return intent;
  if (intent.intent === 'export' && intent.target === 'latest') {
    const description = describeData(text, context.catalog, context.now);
    if (!description) return intent;
    return { ...intent, target: 'described', sql: description.kind === 'query' ? description.sql : null };
  }
  if (intent.intent === 'other' && !/^\s*(select|with)\s/i.test(text)) {
    const description = describeData(text, context.catalog, context.now);
    if (description?.kind === 'query') return { ...intent, sql: description.sql };
  }
  return intent;
}

function parseRequest(text: string): Intent {
  const trimmed = text.trim();
  if (trimmed.length === 0) return OTHER(0.99);
  if (/^\s*(select|with)\s/i.test(trimmed) && /\b(from|select)\b/i.test(trimmed.slice(6))) return OTHER(0.99);

  const tokens = tokenize(trimmed);
  const words = tokens.filter(
    (token) => !CLAUSE_BREAKS.has(token) || token === 'and' || token === 'but' || token === 'then',
  );
  const first = words[0] ?? '';
  const lower = trimmed.toLowerCase();
  const isQuestion = QUESTION_STARTS.has(first) && !/^(how|what) about\b/.test(lower);
  const formatReading = readFormat(tokens);
  const strongVerb = hasStrongExportVerb(tokens);

  if (isQuestion) return OTHER(0.85);

  // "stop showing nulls" is about the query, not an export: a cancel word followed by another activity.
  const cancelWord = tokens.findIndex((token) => CANCEL_WORDS.has(token));
  const activity = cancelWord >= 0 ? tokens[cancelWord + 1] : undefined;
  if (
    cancelWord >= 0 &&
    !(
      activity?.endsWith('ing') &&
      !['exporting', 'downloading', 'zipping', 'everything', 'that', 'this'].includes(activity)
    )
  ) {
    return { intent: 'cancel', format: null, target: null, nth: null, sql: null, confidence: 0.9 };
  }

  if ((DEFAULT_MARKERS.test(lower) && formatReading.format) || SET_DEFAULT_VERB.test(lower)) {
    return {
      intent: 'set_default_format',
      format: formatReading.format,
      target: null,
      nth: null,
      sql: null,
      confidence: formatReading.format ? 0.9 : 0.6,
    };
  }

  const softVerb = tokens.some((token) => SOFT_EXPORT_VERBS.has(token));
  const fileWord = tokens.some((token) => FILE_WORDS.has(token));
  const reference = tokens.some((token) => REFERENCE_WORDS.has(token));
  const format = formatReading.format;
  const unsupportedFormat = !format && tokens.some((token) => UNSUPPORTED_FORMATS.has(token));
  const suggestion = /^(how|what) about\b/.test(lower);
  const formatLeadIn = tokens.some(
    (token, index) => formatOf(token) !== null && index > 0 && FORMAT_LEAD_INS.has(tokens[index - 1]!),
  );
  const queryStart = QUERY_STARTS.has(first);

  let confidence = 0;
  if (strongVerb && !queryStart) confidence = 0.95;
  else if (strongVerb) confidence = 0.7;
  else if (queryStart && format && reference && formatLeadIn)
    confidence = 0.5; // "show this as csv": probably an export; ask
  else if (queryStart) confidence = 0;
  else if (format && (softVerb || formatLeadIn || suggestion)) confidence = 0.85;
  else if (unsupportedFormat && (softVerb || formatLeadIn || words.length <= 3))
    confidence = 0.8; // "give me a pdf": ask which format
  else if (format && words.every((word) => formatOf(word) !== null || FILLERS.has(word)))
    confidence = 0.8; // "csv please", "not csv, json"
  else if (softVerb && fileWord && reference)
    confidence = 0.75; // "get me a file of these results"
  else if (format && reference) confidence = 0.65;

  if (confidence === 0) return OTHER(0.9);
  if (formatReading.conflicting) confidence = Math.min(confidence, 0.55);
  const { target, nth } = readTarget(tokens, trimmed);
  return { intent: 'export', format, target, nth, sql: null, confidence };
}
