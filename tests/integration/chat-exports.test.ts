import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { createHash } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatOption } from '@/lib/chat-action';
import { chatSession } from '../helpers/chat';
import { createTestApp, PROVIDERS, type TestApp } from '../helpers/databases';
import { newUser } from '../helpers/users';

describe.each(PROVIDERS)('exports asked for in the chat (fallback parser), app database on %s', (provider) => {
  let app: TestApp;
  let counts: Record<string, number>;
  beforeAll(async () => {
    app = await createTestApp(provider, { events: 3_000 });
    const source = new Database(app.demoDataFile, { readonly: true });
    counts = Object.fromEntries(
      ['orders', 'customers', 'products', 'events'].map((table) => [
        table,
        source.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number,
      ]),
    );
    source.close();
  });
  afterAll(() => app.close());

  async function freshChat() {
    return chatSession(app, (await newUser(app.db)).token);
  }

  it('"export this as spreadsheet" confirms in one sentence and the file holds every row', async () => {
    const chat = await freshChat();
    await chat.say('show orders');
    const reply = await chat.say('export this as spreadsheet');
    expect(reply.content).toBe(
      `Exporting ${counts.orders!.toLocaleString('en-US')} rows as CSV — opens in any spreadsheet.`,
    );
    expect(reply.payload).toMatchObject({
      kind: 'export',
      format: 'csv',
      archive: false,
      files: [{ position: 1, title: 'orders' }],
    });
    if (reply.payload?.kind !== 'export') throw new Error('no export');
    const response = await chat.download(reply.payload.downloadUrl);
    expect(response.status).toBe(200);
    const records = parse(await response.text(), { columns: true, record_delimiter: '\r\n' });
    expect(records).toHaveLength(counts.orders!);
  });

  it('"export this" asks which format with chips; the JSON chip finishes the export', async () => {
    const chat = await freshChat();
    await chat.say('show customers');
    const question = await chat.say('export this');
    expect(question.content).toBe('Which format would you like?');
    if (question.payload?.kind !== 'choice') throw new Error('no choice');
    expect(question.payload.options.map((option: ChatOption) => option.label)).toEqual(['CSV', 'JSON', 'Excel']);
    const json = question.payload.options[1] as ChatOption;
    const done = await chat.caller.chat.act({ chatId: chat.chatId()!, label: json.label, action: json.action });
    expect(done.messages[0]).toMatchObject({ role: 'user', content: 'JSON' });
    const exported = done.messages[1]!;
    expect(exported.content).toBe(
      `Exporting ${counts.customers!.toLocaleString('en-US')} rows as JSON — for code and APIs.`,
    );
    if (exported.payload?.kind !== 'export') throw new Error('no export');
    const rows = (await (await chat.download(exported.payload.downloadUrl)).json()) as unknown[];
    expect(rows).toHaveLength(counts.customers!);
  });

  it('"always use json" saves the default; later "export it" uses it and says so', async () => {
    const chat = await freshChat();
    expect((await chat.say('always use json')).content).toBe(
      'Done: from now on, "export this" gives JSON unless you ask for another format.',
    );
    await chat.say('show products');
    const reply = await chat.say('export it');
    expect(reply.content).toBe(`Exporting ${counts.products} rows as JSON — your default format.`);
    expect(reply.payload).toMatchObject({ kind: 'export', format: 'json' });
    expect((await chat.say('export it as csv')).payload).toMatchObject({ kind: 'export', format: 'csv' });
  });

  it('resolves previous and nth against the chat, and lists what exists for an impossible target', async () => {
    const chat = await freshChat();
    await chat.say('show orders');
    await chat.say('show customers');
    await chat.say('show products');
    expect((await chat.say('export the previous result as csv')).payload).toMatchObject({
      kind: 'export',
      files: [{ position: 2, title: 'customers' }],
    });
    expect((await chat.say('export the first query as json')).payload).toMatchObject({
      kind: 'export',
      format: 'json',
      files: [{ position: 1, title: 'orders' }],
    });
    expect((await chat.say('download result #3 as csv')).payload).toMatchObject({
      kind: 'export',
      files: [{ position: 3, title: 'products' }],
    });
    const missing = await chat.say('export query 9 as csv');
    expect(missing.content).toBe(
      `This chat has 3 queries, so there is no query 9: 1 · orders (${counts.orders!.toLocaleString('en-US')} rows); 2 · customers (${counts.customers!.toLocaleString('en-US')} rows); 3 · products (${counts.products} rows). Which one?`,
    );
    expect(missing.payload).toMatchObject({
      kind: 'choice',
      options: [{ label: 'Query 1 · orders', action: { kind: 'send', text: 'export query 1 as csv' } }, {}, {}],
    });
  });

  it('"export all my queries as a zip" asks the format, then gives one ZIP with a file per query and a manifest', async () => {
    const chat = await freshChat();
    await chat.say('show orders');
    await chat.say('show products');
    await chat.say('SELECT * FROM products WHERE id < 0');
    await chat.say('show products');
    const question = await chat.say('export all my queries as a zip');
    expect(question.content).toBe('Which format for the 4 files in the ZIP?');
    if (question.payload?.kind !== 'choice') throw new Error('no choice');
    const csv = question.payload.options[0]!;
    const done = await chat.caller.chat.act({ chatId: chat.chatId()!, label: csv.label, action: csv.action });
    const exported = done.messages[1]!;
    expect(exported.content).toBe(
      `Exporting 4 queries (${(counts.orders! + 2 * counts.products!).toLocaleString('en-US')} rows) as CSV files in one ZIP, with a manifest.`,
    );
    if (exported.payload?.kind !== 'export') throw new Error('no export');
    const response = await chat.download(exported.payload.downloadUrl);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toMatch(/filename="show orders-.*\.zip"/);
    const zip = await JSZip.loadAsync(await response.arrayBuffer());
    expect(Object.keys(zip.files).sort()).toEqual([
      'manifest.json',
      'orders.csv',
      'products (2).csv',
      'products (3).csv',
      'products.csv',
    ]);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as {
      files: Array<{ file: string; rows: number; bytes: number; sha256: string; empty: boolean; query: string }>;
    };
    expect(manifest.files.map((file) => [file.file, file.rows, file.empty])).toEqual([
      ['orders.csv', counts.orders, false],
      ['products.csv', counts.products, false],
      ['products (2).csv', 0, true],
      ['products (3).csv', counts.products, false],
    ]);
    for (const entry of manifest.files) {
      const bytes = await zip.file(entry.file)!.async('nodebuffer');
      expect(bytes.byteLength).toBe(entry.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
    }
    expect(await zip.file('products (2).csv')!.async('string')).toBe('id,name,category,price\r\n');
    const record = await app.db.export.findUniqueOrThrow({ where: { id: exported.payload.exportId } });
    expect(record).toMatchObject({
      status: 'succeeded',
      archive: true,
      format: 'csv',
      rowCount: counts.orders! + 2 * counts.products!,
    });
  });

  it('with no result in the chat, offers the most recent query from another chat as chips and starts nothing', async () => {
    const token = (await newUser(app.db)).token;
    const first = await chatSession(app, token);
    await first.say('show products');
    const second = await chatSession(app, token);
    const exportsBefore = await app.db.export.count();
    const offer = await second.say('export my last result as csv');
    expect(offer.content).toBe(
      `This chat has no results yet. Your most recent query is "products" (${counts.products} rows, in "show products"): export that one?`,
    );
    expect(await app.db.export.count()).toBe(exportsBefore);
    if (offer.payload?.kind !== 'choice') throw new Error('no choice');
    const done = await second.caller.chat.act({
      chatId: second.chatId()!,
      label: 'JSON',
      action: offer.payload.options[1]!.action,
    });
    expect(done.messages[1]?.payload).toMatchObject({ kind: 'export', format: 'json', files: [{ title: 'products' }] });
    const nothing = await (await freshChat()).say('export it');
    expect(nothing.content).toBe('There is nothing to export yet: run a query first, for example "show orders".');
  });

  it('exports what a message describes: runs it, shows it with its SQL, and exports that result, never an earlier one', async () => {
    const chat = await freshChat();
    await chat.say('show products');
    const answered = await chat.send('export all customers in Canada to csv');
    const [, result, exported] = answered.messages;
    expect(result?.content).toMatch(/^Ran `SELECT \* FROM "customers" WHERE "country" = 'CA'` — [\d,]+ rows?\./);
    if (result?.payload?.kind !== 'result') throw new Error('no result');
    const canadians = await app.services.dataSource.preview("SELECT * FROM customers WHERE country = 'CA'", 0);
    expect(result.payload.totalRows).toBe(canadians.totalRows);
    expect(exported?.payload).toMatchObject({
      kind: 'export',
      format: 'csv',
      files: [{ queryRunId: result.payload.queryRunId }],
    });
    if (exported?.payload?.kind !== 'export') throw new Error('no export');
    const file = await (await chat.download(exported.payload.downloadUrl)).text();
    expect(file.trim().split('\r\n')).toHaveLength(canadians.totalRows + 1);
  });

  it('asks, with chips, when a described export cannot be resolved, and exports nothing', async () => {
    const chat = await freshChat();
    await chat.say('show products');
    const exportsBefore = await app.db.export.count();
    const ask = await chat.say('export the sales by region as csv');
    expect(ask.content).toMatch(
      /I can't tell what "region" means in orders offline\. Pick what you mean, or type the SQL/,
    );
    expect(ask.payload?.kind).toBe('choice');
    const signups = await chat.say('export the signups as json');
    expect(signups.content).toMatch(/events where type is signup/);
    if (signups.payload?.kind !== 'choice') throw new Error('no choice');
    expect(signups.payload.options[0]?.action).toEqual({
      kind: 'send',
      text: `SELECT * FROM "events" WHERE "type" = 'signup'`,
    });
    expect(await app.db.export.count()).toBe(exportsBefore);
  });

  it('names the formats it writes when asked for one it does not, even with a default saved', async () => {
    const chat = await freshChat();
    await chat.say('show products');
    await chat.say('always use json');
    const exportsBefore = await app.db.export.count();
    const reply = await chat.say('export this as pdf');
    expect(reply.content).toBe("I can't write PDF files: I export CSV, JSON and Excel. Which one would you like?");
    expect(reply.payload?.kind).toBe('choice');
    expect(await app.db.export.count()).toBe(exportsBefore);
  });

  it('runs SQL as a query whatever command words its aliases and strings hold', async () => {
    const chat = await freshChat();
    await chat.say('show products');
    for (const sql of [
      'SELECT 1 AS stop',
      "SELECT 'export this as json' AS note",
      "SELECT 'always json' AS preference",
    ]) {
      const reply = await chat.say(sql);
      expect(reply.payload?.kind).toBe('result');
    }
  });

  it('answers a described question with a query', async () => {
    const chat = await freshChat();
    const reply = await chat.say('how many products per category');
    if (reply.payload?.kind !== 'result') throw new Error(reply.content);
    expect(reply.payload.sql).toBe(
      'SELECT "category", COUNT(*) AS "count" FROM "products" GROUP BY "category" ORDER BY "count" DESC, "category"',
    );
    expect(reply.payload.columns.map((column) => column.name)).toEqual(['category', 'count']);
  });

  it('asks instead of acting on a low-confidence reading', async () => {
    const chat = await freshChat();
    await chat.say('show orders');
    const unsure = await chat.say('show this as csv');
    expect(unsure.content).toBe(
      `Do you want to export "orders" (${counts.orders!.toLocaleString('en-US')} rows) as CSV?`,
    );
    expect(unsure.payload).toMatchObject({ kind: 'choice', options: [{ label: 'CSV' }, {}, {}] });
  });

  it('"export this to excel" downloads a workbook: typed cells, bold frozen header, auto-filter', async () => {
    const chat = await freshChat();
    await chat.say('SELECT id, customer_id, occurred_at, amount, description FROM events ORDER BY id');
    const reply = await chat.say('export this to excel');
    expect(reply.content).toBe(
      `Exporting ${counts.events!.toLocaleString('en-US')} rows as Excel — a typed Excel workbook.`,
    );
    if (reply.payload?.kind !== 'export') throw new Error(reply.content);
    const response = await chat.download(reply.payload.downloadUrl);
    expect(response.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0]!;
    expect(sheet.rowCount).toBe(counts.events! + 1);
    expect(sheet.getRow(1).values).toEqual([
      undefined,
      'id',
      'customer_id',
      'occurred_at (UTC)',
      'amount',
      'description',
    ]);
    expect(sheet.getRow(1).font?.bold).toBe(true);
    expect(sheet.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(sheet.autoFilter).toBeTruthy();
    const first = sheet.getRow(2);
    expect(first.getCell(1).value).toBe(1);
    expect(first.getCell(3).value).toBeInstanceOf(Date);
    const withAmount = sheet.getColumn(4).values.find((value) => typeof value === 'number');
    expect(typeof withAmount).toBe('number');
  });

  it('cancel stops the running export of this chat, or says nothing is running', async () => {
    const chat = await freshChat();
    expect((await chat.say('cancel the export')).content).toBe('Nothing is exporting in this chat right now.');
    await chat.say('SELECT a.* FROM events a, events b LIMIT 9000');
    const started = await chat.say('export this as json');
    if (started.payload?.kind !== 'export') throw new Error(`no export: ${started.content}`);
    const response = await chat.download(started.payload.downloadUrl);
    const reader = response.body!.getReader();
    await reader.read();
    expect((await chat.say('stop the download')).content).toBe('Cancelled the export.');
    await expect(async () => {
      for (;;) if ((await reader.read()).done) break;
    }).rejects.toThrow(/cancelled/);
    expect((await app.db.export.findUniqueOrThrow({ where: { id: started.payload.exportId } })).status).toBe(
      'cancelled',
    );
  });

  it("refuses a chip that names another user's query run, and a batch with one foreign id as a whole", async () => {
    const owner = await freshChat();
    const ownerRun = await owner.say('show orders');
    const intruder = await freshChat();
    const mine = await intruder.say('show products');
    if (ownerRun.payload?.kind !== 'result' || mine.payload?.kind !== 'result') throw new Error('no result');
    for (const queryRunIds of [[ownerRun.payload.queryRunId], [mine.payload.queryRunId, ownerRun.payload.queryRunId]]) {
      const result = await intruder.caller.chat.act({
        chatId: intruder.chatId()!,
        label: 'CSV',
        action: { kind: 'export', queryRunIds, format: 'csv', archive: queryRunIds.length > 1 },
      });
      expect(result.messages[1]).toMatchObject({ payload: { kind: 'error' } });
      expect(result.messages[1]?.content).toMatch(/was not found\.$/);
    }
    expect(
      await app.db.export.count({
        where: {
          items: { some: { queryRunId: ownerRun.payload.queryRunId } },
          user: { id: { not: undefined } },
          NOT: {
            userId: (await app.db.queryRun.findUniqueOrThrow({ where: { id: ownerRun.payload.queryRunId } })).userId,
          },
        },
      }),
    ).toBe(0);
    const foreignChat = await intruder.caller.chat
      .act({ chatId: owner.chatId()!, label: 'CSV', action: { kind: 'set_default_format', format: 'csv' } })
      .catch((error: unknown) => error);
    expect(foreignChat).toBeInstanceOf(TRPCError);
    expect((foreignChat as TRPCError).code).toBe('NOT_FOUND');
  });

  it("answers another user's export download exactly like a missing one: 404", async () => {
    const owner = await freshChat();
    await owner.say('show products');
    const exported = await owner.say('export this as csv');
    if (exported.payload?.kind !== 'export') throw new Error('no export');
    const intruder = await freshChat();
    const foreign = await intruder.download(exported.payload.downloadUrl);
    const missing = await intruder.download('/api/exports/nope/download');
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toEqual(await missing.json());
  });
});
