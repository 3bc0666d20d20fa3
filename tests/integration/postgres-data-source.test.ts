import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '@/server/auth/service';
import { handleQueryRunDownload } from '@/server/export/download-route';
import { createTestApp, type TestApp } from '../helpers/databases';
import { callerFor, send } from '../helpers/trpc';
import { newUser } from '../helpers/users';

// DATA_DATABASE_URL may point at PostgreSQL: the same chat and download paths, PostgreSQL dialect.
describe('chat and download with a PostgreSQL data source', () => {
  let app: TestApp;
  let token: string;
  beforeAll(async () => {
    app = await createTestApp('sqlite', { dataSource: 'postgresql', events: 3_000 });
    token = (await newUser(app.db)).token;
  });
  afterAll(() => app.close());

  it('answers "show orders" and typed SQL, and refuses what the guard refuses', async () => {
    const { caller } = await callerFor(app, token);
    const shown = await send(caller, { chatId: null, text: 'show orders' });
    expect(shown.messages[1]?.payload).toMatchObject({ kind: 'result', totalRows: 5_000, title: 'orders' });
    const refused = await send(caller, { chatId: shown.chatId, text: 'SELECT * FROM pg_catalog.pg_user' });
    expect(refused.messages[1]?.content).toMatch(/not available/);
  });

  it('downloads every row with exact decimals and ISO 8601 UTC timestamps', async () => {
    const { caller } = await callerFor(app, token);
    const result = await send(caller, {
      chatId: null,
      text: 'SELECT id, occurred_at, amount FROM events WHERE amount IS NOT NULL ORDER BY id',
    });
    const payload = result.messages[1]?.payload;
    if (payload?.kind !== 'result') throw new Error(String(result.messages[1]?.content));
    const request = new Request(`http://localhost/api/query-runs/${payload.queryRunId}/download?format=csv`, {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    const response = await handleQueryRunDownload(request, payload.queryRunId, app.services);
    const records = parse(await response.text(), { columns: true, record_delimiter: '\r\n' }) as Array<{
      id: string;
      occurred_at: string;
      amount: string;
    }>;
    expect(records).toHaveLength(payload.totalRows);
    for (const record of records) {
      expect(record.amount).toMatch(/^-?\d+\.\d\d$/);
      expect(record.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });
});
