import * as chrono from 'chrono-node';

// Dates in a described request, as a half-open range of UTC days [from, to). chrono-node finds the
// date expressions and their precision; the calendar periods ("last week", "this quarter") are ours,
// because chrono reads them as a single day rather than a period.

export interface DateRange {
  /** Inclusive start, a UTC day "YYYY-MM-DD", or null for "before …". */
  from: string | null;
  /** Exclusive end, a UTC day, or null for "since …". */
  to: string | null;
  /** Where the expression sits in the text, so the reader does not read its words again. */
  spans: Array<[number, number]>;
  /** How the range reads, for the reply: "last week (16–22 Nov 2026)". */
  label: string;
}

const DAY_MS = 86_400_000;

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
function utcDay(year: number, month: number, date: number): Date {
  return new Date(Date.UTC(year, month, date));
}
function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

const PERIOD =
  /\b(this|last|previous|past|current|the past|the last)\s+(?:(\d{1,3})\s+)?(day|days|week|weeks|month|months|quarter|quarters|year|years)\b|\b(today|yesterday)\b|\b(?:ytd|year to date)\b/gi;
const BARE_YEAR = /\b(?:in|during|for|of|from)\s+((?:19|20)\d{2})\b(?!\s*-\s*\d)/gi;

/** A calendar period relative to `now`: "last month", "this year", "the last 7 days", "yesterday". */
function period(match: RegExpExecArray, now: Date): { from: Date; to: Date } | null {
  const today = utcDay(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (match[4]) {
    const start = match[4].toLowerCase() === 'today' ? today : addDays(today, -1);
    return { from: start, to: addDays(start, 1) };
  }
  if (!match[1]) return { from: utcDay(now.getUTCFullYear(), 0, 1), to: addDays(today, 1) }; // year to date
  const which = match[1].toLowerCase().replace(/^the /, '');
  const count = match[2] ? Number(match[2]) : null;
  const unit = match[3]!.toLowerCase().replace(/s$/, '');
  const back = which === 'this' || which === 'current' ? 0 : 1;
  if (count !== null) {
    // "the last 7 days": the 7 days up to and including today; "the past 3 months": back to that day.
    if (unit === 'day') return { from: addDays(today, -(count - 1)), to: addDays(today, 1) };
    if (unit === 'week') return { from: addDays(today, -7 * count + 1), to: addDays(today, 1) };
    const from = new Date(today);
    if (unit === 'month') from.setUTCMonth(from.getUTCMonth() - count);
    if (unit === 'quarter') from.setUTCMonth(from.getUTCMonth() - 3 * count);
    if (unit === 'year') from.setUTCFullYear(from.getUTCFullYear() - count);
    return { from: addDays(from, 1), to: addDays(today, 1) };
  }
  if (which === 'past' || which === 'last' || which === 'previous' || which === 'this' || which === 'current') {
    if (unit === 'day') return { from: addDays(today, -back), to: addDays(today, 1 - back) };
    if (unit === 'week') {
      const monday = addDays(today, -((today.getUTCDay() + 6) % 7));
      const start = addDays(monday, -7 * back);
      return { from: start, to: addDays(start, 7) };
    }
    if (unit === 'month') {
      const start = utcDay(now.getUTCFullYear(), now.getUTCMonth() - back, 1);
      return { from: start, to: utcDay(start.getUTCFullYear(), start.getUTCMonth() + 1, 1) };
    }
    if (unit === 'quarter') {
      const quarterStart = Math.floor(now.getUTCMonth() / 3) * 3;
      const start = utcDay(now.getUTCFullYear(), quarterStart - 3 * back, 1);
      return { from: start, to: utcDay(start.getUTCFullYear(), start.getUTCMonth() + 3, 1) };
    }
    const start = utcDay(now.getUTCFullYear() - back, 0, 1);
    return { from: start, to: utcDay(start.getUTCFullYear() + 1, 0, 1) };
  }
  return null;
}

/** The period a chrono component covers: a day, a month or a year, by what the text stated. */
function covered(component: chrono.ParsedComponents): { from: Date; to: Date } {
  const year = component.get('year')!;
  const month = (component.get('month') ?? 1) - 1;
  if (component.isCertain('day')) {
    const start = utcDay(year, month, component.get('day')!);
    return { from: start, to: addDays(start, 1) };
  }
  if (component.isCertain('month')) return { from: utcDay(year, month, 1), to: utcDay(year, month + 1, 1) };
  return { from: utcDay(year, 0, 1), to: utcDay(year + 1, 0, 1) };
}

function labelOf(range: { from: string | null; to: string | null }, text: string): string {
  const last = range.to ? day(addDays(new Date(`${range.to}T00:00:00Z`), -1)) : null;
  if (range.from && last) return range.from === last ? `${text} (${range.from})` : `${text} (${range.from} to ${last})`;
  if (range.from) return `${text} (from ${range.from})`;
  return `${text} (before ${range.to})`;
}

/** The date range a message states, or null. Two ranges in one message are not guessed at: null too. */
export function readDateRange(text: string, now: Date): DateRange | 'ambiguous' | null {
  const found: Array<{ from: Date | null; to: Date | null; span: [number, number]; text: string }> = [];
  const taken = (start: number, end: number) => found.some(({ span }) => start < span[1] && end > span[0]);

  for (const match of text.matchAll(PERIOD)) {
    const range = period(match, now);
    if (range) found.push({ ...range, span: [match.index, match.index + match[0].length], text: match[0] });
  }
  for (const match of text.matchAll(BARE_YEAR)) {
    const start = match.index + match[0].length - match[1]!.length;
    if (taken(start, start + 4)) continue;
    const year = Number(match[1]);
    found.push({ from: utcDay(year, 0, 1), to: utcDay(year + 1, 0, 1), span: [start, start + 4], text: match[1]! });
  }
  for (const result of chrono.parse(text, { instant: now, timezone: 'UTC' }, { forwardDate: false })) {
    const end = result.index + result.text.length;
    if (taken(result.index, end)) continue;
    // A bare number or time ("5", "at 8") is not a date here.
    if (!result.start.isCertain('month') && !result.start.isCertain('year')) continue;
    const start = covered(result.start);
    const finish = result.end ? covered(result.end) : null;
    found.push({ from: start.from, to: finish ? finish.to : start.to, span: [result.index, end], text: result.text });
  }
  if (found.length === 0) return null;
  found.sort((a, b) => a.span[0] - b.span[0]);

  const before = (index: number) => text.slice(Math.max(0, index - 16), index).toLowerCase();
  let from: Date | null;
  let to: Date | null;
  let label: string;
  if (found.length === 2 && /\b(between|from)\s+$/.test(before(found[0]!.span[0]))) {
    // "between 2025-02-01 and 2025-02-10", "from 1 March to 15 March": both days included.
    from = found[0]!.from;
    to = found[1]!.to;
    label = `${found[0]!.text} to ${found[1]!.text}`;
  } else if (found.length === 1) {
    const only = found[0]!;
    const lead = before(only.span[0]);
    label = only.text;
    if (/\b(since|after)\s+$/.test(lead)) {
      from = /\bafter\s+$/.test(lead) ? only.to : only.from;
      to = null;
    } else if (/\b(before)\s+$/.test(lead)) {
      from = null;
      to = only.from;
    } else if (/\b(until|till|up to)\s+$/.test(lead)) {
      from = null;
      to = only.to;
    } else {
      from = only.from;
      to = only.to;
    }
  } else {
    return 'ambiguous';
  }
  const range = { from: from ? day(from) : null, to: to ? day(to) : null };
  return { ...range, spans: found.map((entry) => entry.span), label: labelOf(range, label) };
}
