import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '@/server/auth/service';
import { handleQueryRunDownload } from '@/server/export/download-route';
import { createTestApp, PROVIDERS, type TestApp } from '../helpers/databases';
import { callerFor, send } from '../helpers/trpc';
import { newUser } from '../helpers/users';

function download(app: TestApp, runId: string, options: { token?: string; format?: string } = {}) {
  const query = options.format === undefined ? '' : `?format=${encodeURIComponent(options.format)}`;
  const request = new Request(`http://localhost:3000/api/query-runs/${runId}/download${query}`, {
    headers: options.token ? { cookie: `${SESSION_COOKIE}=${options.token}` } : {},
  });
  return handleQueryRunDownload(request, runId, app.services);
}

async function runQuery(app: TestApp, token: string, text: string): Promise<string> {
  const { caller } = await callerFor(app, token);
  const result = await send(caller, { chatId: null, text });
  const payload = result.messages[1]?.payload;
  if (payload?.kind !== 'result') throw new Error(`query failed: ${result.messages[1]?.content}`);
  return payload.queryRunId;
}

describe.each(PROVIDERS)('downloading a result, app database on %s', (provider) => {
  let app: TestApp;
  let token: string;
  let eventsRunId: string;
  let eventCount: number;
  beforeAll(async () => {
    app = await createTestApp(provider, { events: 12_345 });
    token = (await newUser(app.db)).token;
    eventsRunId = await runQuery(app, token, 'SELECT * FROM events ORDER BY id');
    const source = new Database(app.demoDataFile, { readonly: true });
    eventCount = source.prepare('SELECT count(*) FROM events').pluck().get() as number;
    source.close();
  });
  afterAll(() => app.close());

  it('streams every row as CSV (not the 100-row preview), with a sanitised attachment name', async () => {
    const response = await download(app, eventsRunId, { token, format: 'csv' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="events-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.csv"; filename\*=UTF-8''events-/,
    );
    const text = await response.text();
    expect(text.startsWith('id,customer_id,occurred_at,type,amount,currency,country,description\r\n')).toBe(true);
    const records = parse(text, { columns: true, record_delimiter: '\r\n' }) as Array<Record<string, string>>;
    expect(records).toHaveLength(eventCount);
    expect(records[eventCount - 1]?.id).toBe(String(eventCount));
  });

  it('streams every row as one valid JSON array', async () => {
    const response = await download(app, eventsRunId, { token, format: 'json' });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const rows = (await response.json()) as Array<{ id: number }>;
    expect(rows).toHaveLength(eventCount);
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: eventCount }, (_, index) => index + 1));
  });

  it('records the export with its rows, bytes and duration', async () => {
    const response = await download(app, eventsRunId, { token, format: 'csv' });
    const bytes = (await response.arrayBuffer()).byteLength;
    const record = await app.db.export.findFirstOrThrow({
      where: { items: { some: { queryRunId: eventsRunId } }, format: 'csv' },
      orderBy: { createdAt: 'desc' },
    });
    expect(record).toMatchObject({ status: 'succeeded', rowCount: eventCount, bytes: BigInt(bytes) });
    expect(record.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('stops the cursor and records a cancelled export when the client goes away', async () => {
    const response = await download(app, eventsRunId, { token, format: 'json' });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const record = await app.db.export.findFirstOrThrow({ where: { format: 'json' }, orderBy: { createdAt: 'desc' } });
    expect(record.status).toBe('cancelled');
    expect(record.rowCount).toBeLessThan(eventCount);
  });

  it('answers 401 without a session and 400 for an unknown format', async () => {
    expect((await download(app, eventsRunId, { format: 'csv' })).status).toBe(401);
    expect((await download(app, eventsRunId, { token: 'forged', format: 'csv' })).status).toBe(401);
    for (const format of ['xml', 'CSV', '../csv', '', 'xlsx%00']) {
      const response = await download(app, eventsRunId, { token, format });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'Unknown format: choose csv, json or xlsx.' });
    }
  });

  it("answers another user's query run exactly like a missing one: 404", async () => {
    const intruder = (await newUser(app.db, 'Intruder')).token;
    const foreign = await download(app, eventsRunId, { token: intruder, format: 'csv' });
    const missing = await download(app, 'no-such-run', { token: intruder, format: 'csv' });
    const traversal = await download(app, '../../etc/passwd', { token: intruder, format: 'csv' });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(traversal.status).toBe(404);
    expect(await foreign.json()).toEqual(await missing.json());
  });

  it('keeps exact text through CSV: quotes, commas, line breaks, unicode and formula-like values', async () => {
    const runId = await runQuery(
      app,
      token,
      "SELECT id, description FROM events WHERE description LIKE '%\"%' OR description LIKE '=%' OR description LIKE '%東京%' ORDER BY id",
    );
    const text = await (await download(app, runId, { token, format: 'csv' })).text();
    const records = parse(text, { columns: true, record_delimiter: '\r\n' }) as Array<{ description: string }>;
    const descriptions = new Set(records.map((record) => record.description));
    expect(descriptions).toContain('Comma, "quotes", and\nnewline');
    expect(descriptions).toContain('Größe: XL — café ☕, 東京');
    expect(descriptions).toContain("'=SUM(A1:A9)");
  });
});
