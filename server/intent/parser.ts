import type { Intent, IntentFormat, IntentTarget } from '@/lib/intent';
import type { SchemaCatalog } from './catalog';
import { describeData } from './describe';
import { canonicalWord } from './typos';

// The fallback intent parser: a pure, deterministic function of the text (DESIGN.md §3), in three
// steps. (1) Tokenise: words, clause breaks, typo-tolerant format and export words, phrases folded
// ("google sheets" → csv, "for our API" → json). (2) The speech act, before any slot: a request, a
// refusal or deferral (an action word inside a negation's scope — "don't export", "no need to",
// "export it later"), a report or thanks about a file ("the json worked"), a question about exports,
// a cancel (its object must be an export or the running thing), or a preference ("from now on",
// "every time", "note it"). Only a request reaches the acting threshold. (3) The slots: the format
// the file should be (a format refused, complained about or named as the program to open it in is set
// aside), the target and nth (the last one named wins), and — with a catalog — the described data.

type Token = string;

const CLAUSE_BREAKS = new Set([',', ';', '.', '!', '?', '—', '(', ')', 'but', 'and', 'then']);
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
  "won't",
  'wont',
  "can't",
  'cant',
  'cannot',
  "shouldn't",
  "isn't",
  "aren't",
  "haven't",
  "didn't",
  "doesn't",
  'hold',
  'skip',
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
  'xls',
  'tsv',
  'parquet',
  'xml',
  'html',
  'txt',
  'markdown',
  'yaml',
  'avro',
  'ods',
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
  /\b(always|by default|(the|my|as) default|default (export )?format|default to|from now on|going forward|in (the )?future|every time|each time|henceforth|for all future|from here on|from today|for (all|every) (of )?(my |our |future )?(exports|downloads|files)|for everything|keep using|my preference|(please )?(note|remember) (it|that|this)|remember|next time|all my exports|(as|be) my (usual |preferred |standard )?format|my (usual|preferred|standard) format)\b/;
const SET_DEFAULT_VERB =
  /\b(set|change|switch|update|reset|make)\b.*\bdefault\b|\bdefault\b.*\b(set|change|switch) it\b/;
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
  const raw = folded.replace(/\s[-–]\s/g, ' — ').match(/#?\d+(st|nd|rd|th)?|[a-z]+(?:'[a-z]+)?|[,;.!?—()]/g) ?? [];
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

/** Words after a format that complain about it: "csv mangles the dates", "json is too nested". */
const COMPLAINTS = new Set([
  'mangles',
  'mangle',
  'breaks',
  'break',
  'ruins',
  'useless',
  'slow',
  'nested',
  'sucks',
  'messes',
  'loses',
  'bad',
  'broken',
  'garbles',
  'corrupts',
  'strips',
]);
/** Words before a format that name the program a file is opened in, not the file: "open it in excel". */
const PROGRAM_LEADS = new Set(['open', 'opened', 'opening', 'import', 'importing', 'load', 'into', 'view']);

/** How a format word is used: wanted, refused ("not csv"), complained about, or the program it opens in. */
function formatRole(tokens: Token[], index: number): 'wanted' | 'refused' | 'complained' | 'program' {
  if (isNegated(tokens, index)) return 'refused';
  for (let ahead = 1; ahead <= 4 && index + ahead < tokens.length; ahead++) {
    const token = tokens[index + ahead]!;
    if (CLAUSE_BREAKS.has(token)) break;
    if (COMPLAINTS.has(token)) return 'complained';
  }
  for (let back = 1; back <= 4 && index - back >= 0; back++) {
    const token = tokens[index - back]!;
    if (CLAUSE_BREAKS.has(token) || formatOf(token)) break;
    if (PROGRAM_LEADS.has(token)) return 'program';
  }
  return 'wanted';
}

/**
 * The format the file should be. With several, the one wanted wins over one refused, complained
 * about or named as the program to open it in; among those wanted, the last (a correction) wins.
 */
function readFormat(tokens: Token[]): FormatReading {
  const roles: Array<{ format: IntentFormat; role: ReturnType<typeof formatRole> }> = [];
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
    roles.push({ format, role: formatRole(tokens, index) });
  });
  const several = new Set(roles.map((entry) => entry.format)).size > 1;
  // A program named is only set aside when another format is the file ("a csv I'll open in excel").
  const wanted = roles
    .filter((entry) => entry.role === 'wanted' || (entry.role === 'program' && !several))
    .map((entry) => entry.format);
  const format = wanted.at(-1) ?? null;
  return {
    format,
    mentions: roles.length,
    conflicting: new Set(wanted).size > 1 && !hasCorrectionWord(tokens),
  };
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
    /\b(previous|prior|earlier|penultimate|second[\s-]to[\s-]last|second[\s-]last|last but one|one before|before that|before this|before (the )?last)\b/.test(
      lower,
    )
  ) {
    return { target: 'previous', nth: null };
  }

  // The last number named wins: "query 2 — no, query 3".
  const numbered = [
    ...lower.matchAll(
      /\b(?:query|result|results|table|search|answer|number|no\.?)\s*(?:#|no\.?\s*|number\s*)?(\d{1,4})\b|(?:^|\s)#(\d{1,4})\b/g,
    ),
  ].at(-1);
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

/** A file format the message asks for that Askport does not write ("pdf", "parquet"), else null. */
export function unsupportedFormatNamed(text: string): string | null {
  if (readFormat(tokenize(text)).format) return null;
  return tokenize(text).find((token) => UNSUPPORTED_FORMATS.has(token)) ?? null;
}

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

/** A message that is SQL is a query, whatever words its strings, aliases or comments hold. */
const SQL_STATEMENT = /^\s*(?:select\s+(?:[\d'"*(]|.*\b(?:from|as)\b)|with\s+\w+\s+as\s*\()/is;

/** Objects a cancel word can stop: exports, or the running thing itself ("stop it", "halt that"). */
const CANCEL_OBJECTS = new Set([
  'export',
  'exports',
  'exporting',
  'download',
  'downloads',
  'downloading',
  'job',
  'jobs',
  'zip',
  'zipping',
  'file',
  'it',
  'that',
  'this',
  'everything',
  'all',
]);
/** Cancel words that need an export as their object ("drop the zip download", "forget the download"). */
const OBJECT_CANCEL_WORDS = new Set(['drop', 'scrap', 'forget', 'call']);
/** Past tense and reports: "downloaded the spreadsheet", "the json worked", "got the file". */
const REPORT_WORDS = new Set([
  'downloaded',
  'exported',
  'opened',
  'worked',
  'works',
  'finished',
  'came',
  'got',
  'loved',
  'had',
  'looks',
  'looked',
  'received',
  'parsed',
  'arrived',
  'helped',
]);
/** Words that defer an action to later, in the clause of the action: "export it tomorrow myself". */
const DEFERRALS = new Set(['later', 'tomorrow', 'myself', 'yet', 'until', 'till']);
/** Words that make "export" a verb when they come right before it: "please export", "can you export". */
const VERB_LEADS = new Set([
  'please',
  'pls',
  'plz',
  'now',
  'then',
  'and',
  'to',
  'you',
  'just',
  'also',
  'kindly',
  'ok',
  'okay',
  'so',
  'yes',
  'sure',
  'i',
  'we',
  "let's",
  'lets',
  "i'll",
  'go',
  'batch',
  'can',
  'could',
  'would',
  'will',
  'quickly',
  'simply',
  'alright',
  'wait',
  'actually',
]);

/** The clause (between breaks) around `index`, as token positions. */
function clauseOf(tokens: Token[], index: number): [number, number] {
  let start = index;
  while (start > 0 && !CLAUSE_BREAKS.has(tokens[start - 1]!)) start--;
  let end = index;
  while (end + 1 < tokens.length && !CLAUSE_BREAKS.has(tokens[end + 1]!)) end++;
  return [start, end];
}

/** Is the action word at `index` refused or put off: "don't export", "no need to export", "export it later"? */
function isRefused(tokens: Token[], index: number): boolean {
  const [start, end] = clauseOf(tokens, index);
  for (let back = index - 1; back >= Math.max(start, index - 5); back--) if (NEGATORS.has(tokens[back]!)) return true;
  for (let at = start; at <= end; at++) if (DEFERRALS.has(tokens[at]!)) return true;
  const clause = tokens.slice(start, end + 1).join(' ');
  return /\b(no need|not necessary|isn't necessary|hold off|maybe later|not now|not yet|before (you |we |i )?(export|download))/.test(
    clause,
  );
}

/** Words that ask for an export, where they are used as a request (not negated, not a noun). */
function requestWords(tokens: Token[]): number[] {
  const found: number[] = [];
  tokens.forEach((token, index) => {
    const strong = token === 'export' || token === 'exporting' || STRONG_EXPORT_VERBS.has(token);
    const soft = SOFT_EXPORT_VERBS.has(token);
    if (!strong && !soft && !formatOf(token)) return;
    if (token === 'export' || token === 'download' || token === 'zip') {
      // "the export", "great export", "zip had": a noun, not a request.
      const before = tokens[index - 1];
      const startsClause = before === undefined || CLAUSE_BREAKS.has(before);
      if (!startsClause && !VERB_LEADS.has(before) && !soft) return;
      if (exportIsNoun(tokens, index)) return;
    }
    if (formatOf(token) && formatRole(tokens, index) !== 'wanted' && formatRole(tokens, index) !== 'program') return;
    if (soft && !strong) {
      // "I need to check the numbers" asks for nothing: a soft verb asks only for a result, a file or a format.
      const [, end] = clauseOf(tokens, index);
      const object = tokens.slice(index + 1, end + 1);
      if (!object.some((word) => REFERENCE_WORDS.has(word) || FILE_WORDS.has(word) || formatOf(word))) return;
    }
    if (isRefused(tokens, index)) return;
    found.push(index);
  });
  return found;
}

type SpeechAct = 'request' | 'refusal' | 'report' | 'question' | 'cancel' | 'preference' | 'none';

/**
 * What the message does, before any slot is read: asks for an export, refuses or puts one off,
 * reports on a file, asks a question about exports, cancels one, or states a preference.
 */
function speechAct(tokens: Token[], lower: string, format: IntentFormat | null): SpeechAct {
  const words = tokens.filter((token) => !CLAUSE_BREAKS.has(token));
  const first = words[0] ?? '';
  const requests = requestWords(tokens);
  const mentionsAction = tokens.some(
    (token) => token === 'export' || token === 'exporting' || STRONG_EXPORT_VERBS.has(token) || formatOf(token),
  );

  // Cancel: a cancel word whose object is an export or the running thing, or that stands alone.
  const cancelAt = tokens.findIndex((token) => CANCEL_WORDS.has(token) || OBJECT_CANCEL_WORDS.has(token));
  if (cancelAt >= 0) {
    const word = tokens[cancelAt]!;
    // Its object: the first two words after it, past "the", "my", "off" ("cancel the running export").
    const object = tokens
      .slice(cancelAt + 1)
      .filter((token) => !['the', 'my', 'a', 'an', 'off', 'our', 'your'].includes(token))
      .slice(0, 2);
    const next = object[0];
    const exportNoun = (token: Token | undefined) =>
      token !== undefined &&
      ['export', 'exports', 'download', 'downloads', 'job', 'jobs', 'zip', 'exporting', 'downloading'].includes(token);
    const objectIsExport =
      exportNoun(next) ||
      exportNoun(object[1]) ||
      (next !== undefined && CANCEL_OBJECTS.has(next) && !OBJECT_CANCEL_WORDS.has(word));
    const alone = next === undefined || CLAUSE_BREAKS.has(next) || next === 'please' || next === 'now';
    const standsFirst =
      cancelAt === 0 ||
      CLAUSE_BREAKS.has(tokens[cancelAt - 1]!) ||
      ['please', 'ok', 'just', 'oh', 'wait'].includes(tokens[cancelAt - 1]!);
    if (OBJECT_CANCEL_WORDS.has(word)) {
      // "drop", "scrap", "forget" cancel only an export named as such ("drop the json column" does not).
      if (objectIsExport) return 'cancel';
      if (word === 'forget' && (next === 'it' || next === 'that')) return 'cancel';
    } else if (objectIsExport || (alone && standsFirst)) {
      // "stop suggesting exports", "never mind exporting, just show me more rows": not a running export.
      const right = tokens[cancelAt + 1];
      const otherActivity =
        right?.endsWith('ing') &&
        !exportNoun(right) &&
        !['everything', 'anything', 'something', 'nothing'].includes(right);
      const redirected =
        (next === 'exporting' || next === 'downloading') &&
        tokens.slice(cancelAt + 2).some((token) => QUERY_STARTS.has(token));
      if (redirected) return 'refusal';
      if (!otherActivity) return 'cancel';
    }
  }

  if ((DEFAULT_MARKERS.test(lower) && format) || SET_DEFAULT_VERB.test(lower)) return 'preference';

  const politeAsk =
    /^(can|could|would|will)\s+(you|u)\b/.test(lower) || /^(can|could|may)\s+(i|we)\s+(get|have)\b/.test(lower);
  const mentionsResult = tokens.some((token) => ['this', 'that', 'these', 'those', 'it', 'them'].includes(token));
  const modalQuestion = /^(can|could|may)\s+(i|we)\b/.test(lower) && !politeAsk && !mentionsResult && !format;
  const questionWordInside =
    /\?\s*$/.test(lower) &&
    /\b(which|what|why|how|is there|does|do you)\b/.test(lower) &&
    !/\b(what|how) about\b/.test(lower) &&
    !politeAsk;
  if ((QUESTION_STARTS.has(first) && !/^(how|what) about\b/.test(lower)) || modalQuestion || questionWordInside)
    return 'question';

  if (requests.length === 0) {
    if (mentionsAction && tokens.some((token) => REPORT_WORDS.has(token))) return 'report';
    if (
      mentionsAction &&
      tokens.some(
        (token, index) =>
          (formatOf(token) || token === 'export' || STRONG_EXPORT_VERBS.has(token) || SOFT_EXPORT_VERBS.has(token)) &&
          isRefused(tokens, index),
      )
    )
      return 'refusal';
    return 'none';
  }
  // A request word next to a report ("the json worked in my script") is a report when nothing asks.
  const reported = tokens.some((token) => REPORT_WORDS.has(token));
  const asks = requests.some((index) => {
    const token = tokens[index]!;
    return token === 'export' || STRONG_EXPORT_VERBS.has(token) || SOFT_EXPORT_VERBS.has(token);
  });
  if (reported && !asks && !politeAsk) return 'report';
  return 'request';
}

function parseRequest(text: string): Intent {
  const trimmed = text.trim();
  if (trimmed.length === 0) return OTHER(0.99);
  if (SQL_STATEMENT.test(trimmed)) return OTHER(0.99);

  const tokens = tokenize(trimmed);
  const words = tokens.filter(
    (token) => !CLAUSE_BREAKS.has(token) || token === 'and' || token === 'but' || token === 'then',
  );
  const first = words[0] ?? '';
  const lower = trimmed.toLowerCase();
  const formatReading = readFormat(tokens);
  const act = speechAct(tokens, lower, formatReading.format);
  if (act === 'question') return OTHER(0.85);
  if (act === 'refusal' || act === 'report') return OTHER(0.85);
  if (act === 'cancel') return { intent: 'cancel', format: null, target: null, nth: null, sql: null, confidence: 0.9 };
  if (act === 'preference')
    return {
      intent: 'set_default_format',
      format: formatReading.format,
      target: null,
      nth: null,
      sql: null,
      confidence: formatReading.format ? 0.9 : 0.6,
    };
  const unsupportedFormat = !formatReading.format && tokens.some((token) => UNSUPPORTED_FORMATS.has(token));
  if (act === 'none' && !formatReading.format && !unsupportedFormat) return OTHER(0.9);
  const strongVerb = requestWords(tokens).some(
    (index) => tokens[index] === 'export' || tokens[index] === 'exporting' || STRONG_EXPORT_VERBS.has(tokens[index]!),
  );

  const softVerb = tokens.some((token) => SOFT_EXPORT_VERBS.has(token));
  const fileWord = tokens.some((token) => FILE_WORDS.has(token));
  const reference = tokens.some((token) => REFERENCE_WORDS.has(token));
  const format = formatReading.format;
  const politeAsk = /^(can|could|would|will)\s+(you|u)\b/.test(lower);
  // A wanted format opening its clause or asked for politely: "excel please, csv mangles the dates".
  const formatAsked = tokens.some(
    (token, index) =>
      formatOf(token) === format &&
      format !== null &&
      formatRole(tokens, index) === 'wanted' &&
      (index === 0 ||
        CLAUSE_BREAKS.has(tokens[index - 1]!) ||
        ['please', 'pls', 'plz'].includes(tokens[index + 1] ?? '')),
  );
  // "save this", "please save these results" (but "save this as weekly revenue" saves a query).
  const saveResult =
    tokens.includes('save') &&
    !tokens.includes('as') &&
    tokens.some((token) => ['this', 'these', 'results', 'it', 'that'].includes(token));
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
  else if (format && (softVerb || formatLeadIn || suggestion || politeAsk)) confidence = 0.85;
  else if (format && formatAsked) confidence = 0.8;
  else if (unsupportedFormat && (softVerb || formatLeadIn || words.length <= 3))
    confidence = 0.8; // "give me a pdf": ask which format
  else if (format && words.every((word) => formatOf(word) !== null || FILLERS.has(word)))
    confidence = 0.8; // "csv please", "not csv, json"
  else if (softVerb && fileWord && reference)
    confidence = 0.75; // "get me a file of these results"
  else if (format && reference) confidence = 0.65;
  else if (saveResult) confidence = 0.7;

  if (confidence === 0) return OTHER(0.9);
  if (formatReading.conflicting) confidence = Math.min(confidence, 0.55);
  const { target, nth } = readTarget(tokens, trimmed);
  return { intent: 'export', format, target, nth, sql: null, confidence };
}
