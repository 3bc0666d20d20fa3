import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '@/server/auth/api-tokens';
import { openAppDb } from '@/server/db/client';
import { handleApiExport } from '@/server/export/download-route';
import { createTestApp, tempDir, type TestApp } from '../helpers/databases';
import { newUser } from '../helpers/users';

function post(app: TestApp, body: unknown, headers: Record<string, string>) {
  const request = new Request('http://localhost/api/v1/exports', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return handleApiExport(request, app.services);
}

describe('scripted exports: POST /api/v1/exports with a bearer token', () => {
  let app: TestApp;
  let events: number;
  beforeAll(async () => {
    app = await createTestApp('sqlite', { events: 4_000 });
    const source = new Database(app.demoDataFile, { readonly: true });
    events = source.prepare('SELECT count(*) FROM events').pluck().get() as number;
    source.close();
  });
  afterAll(() => app.close());

  async function bearer() {
    const session = await newUser(app.db);
    return {
      authorization: `Bearer ${await createApiToken(app.db, session.user.id, 'test')}`,
      userId: session.user.id,
      cookie: `askport_session=${session.token}`,
    };
  }

  it('streams the whole export as CSV and as JSON', async () => {
    const { authorization } = await bearer();
    const csv = await post(app, { sql: 'select * from events order by id', format: 'csv' }, { authorization });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(parse(await csv.text(), { columns: true, record_delimiter: '\r\n' })).toHaveLength(events);
    const json = await post(
      app,
      { sql: 'select id, amount from events order by id', format: 'json', title: 'Amounts' },
      { authorization },
    );
    expect(json.headers.get('content-disposition')).toMatch(/filename="Amounts-/);
    expect(((await json.json()) as unknown[]).length).toBe(events);
  });

  it.each([
    [{}, 'no token'],
    [{ authorization: 'Bearer ap_forged' }, 'a forged token'],
    [{ authorization: 'Basic ZGVtbzpkZW1v' }, 'basic auth'],
    [{ authorization: `Bearer ${'ap_'.padEnd(500, 'x')}` }, 'an oversized token'],
  ] as Array<[Record<string, string>, string]>)('refuses %j (%s) with 401', async (headers) => {
    const response = await post(app, { sql: 'select 1', format: 'csv' }, headers);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: 'Send a valid API token: Authorization: Bearer <token>.' });
  });

  it('does not accept a browser session cookie in place of a token', async () => {
    const { cookie } = await bearer();
    expect((await post(app, { sql: 'select 1', format: 'csv' }, { cookie })).status).toBe(401);
  });

  it.each([
    ['not json', 'Send a JSON body: {"sql": "select …", "format": "csv" | "json" | "xlsx"}.'],
    [{ format: 'csv' }, 'Send the query as "sql".'],
    [{ sql: 'select 1', format: 'xml' }, 'Unknown format: choose csv, json or xlsx.'],
    [
      { sql: 'delete from orders', format: 'csv' },
      'Only read-only SELECT or WITH queries can run here; this is a DELETE statement.',
    ],
    [
      { sql: 'select * from "User"', format: 'csv' },
      'The table "User" is not available. You can query: customers, events, order_items, orders, products.',
    ],
  ])('answers %j with 400 and a sentence', async (body, message) => {
    const { authorization } = await bearer();
    const response = await post(app, body, { authorization });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: message });
  });

  it('rate-limits each user to 10 exports a minute with 429 and Retry-After, others unaffected', async () => {
    const { authorization } = await bearer();
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await post(app, { sql: 'select 1 as one', format: 'csv' }, { authorization });
      expect(response.status).toBe(200);
      await response.text();
    }
    const limited = await post(app, { sql: 'select 1 as one', format: 'csv' }, { authorization });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(((await limited.json()) as { error: string }).error).toMatch(
      /^You have started 10 exports in the last minute\. Try again in \d+ s\.$/,
    );
    const other = await bearer();
    expect(
      (await post(app, { sql: 'select 1 as one', format: 'csv' }, { authorization: other.authorization })).status,
    ).toBe(200);
  });

  it('npm run token prints a token for a new or existing account', async () => {
    const temp = tempDir();
    const env = { ...process.env, ASKPORT_DATA_DIR: temp.dir, DATABASE_URL: `file:${path.join(temp.dir, 'app.db')}` };
    const run = () =>
      spawnSync('npm', ['run', '--silent', 'token', '--', '--email', 'Script@Example.com'], { env, encoding: 'utf8' });
    const first = run();
    const second = run();
    expect(first.status).toBe(0);
    expect(first.stdout.trim()).toMatch(/^ap_[\w-]{43}$/);
    expect(first.stderr).toContain('Created the account script@example.com.');
    expect(second.stdout.trim()).not.toBe(first.stdout.trim());
    expect(second.stderr).not.toContain('Created');
    const db = await openAppDb(env.DATABASE_URL);
    expect(await db.apiToken.count({ where: { user: { email: 'script@example.com' } } })).toBe(2);
    await db.$disconnect();
    expect(
      spawnSync('npm', ['run', '--silent', 'token', '--', '--email', 'not-an-email'], { env, encoding: 'utf8' }).status,
    ).toBe(2);
    temp.remove();
  });
});
