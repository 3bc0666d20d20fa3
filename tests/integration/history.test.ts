import JSZip from 'jszip';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_KEEP_PER_USER } from '@/lib/history';
import { chatSession } from '../helpers/chat';
import { createTestApp, PROVIDERS, type TestApp } from '../helpers/databases';
import { callerFor } from '../helpers/trpc';
import { newUser } from '../helpers/users';

process.env.EXPORT_RATE_LIMIT_PER_MINUTE = '1000';

describe.each(PROVIDERS)('export history and batch export, app database on %s', (provider) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(provider);
  });
  afterAll(() => app.close());

  async function userWithExports() {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const { caller } = await callerFor(app, session.token);
    await chat.say('show products');
    for (const text of ['export this as csv', 'export this as json', 'export this as csv']) {
      const reply = await chat.say(text);
      if (reply.payload?.kind !== 'export') throw new Error(reply.content);
      await (await chat.download(reply.payload.downloadUrl)).arrayBuffer();
    }
    return { session, chat, caller };
  }

  it("tells which jobs finished since the last ask: only this user's files, succeeded or failed", async () => {
    const me = await newUser(app.db);
    const other = await newUser(app.db);
    const { caller } = await callerFor(app, me.token);
    const first = await caller.history.finished({ after: null });
    expect(first.entries).toEqual([]);
    const after = first.now;
    const later = new Date(after.getTime() + 1_000);
    const earlier = new Date(after.getTime() - 1_000);
    const job = (userId: string, fields: Record<string, unknown>) =>
      app.db.export.create({
        data: {
          userId,
          format: 'csv',
          delivery: 'file',
          title: 'events',
          status: 'succeeded',
          finishedAt: later,
          ...fields,
        },
      });
    const ready = await job(me.user.id, {
      rowCount: 20_000,
      filePath: 'x.csv',
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const failed = await job(me.user.id, {
      status: 'failed',
      error:
        'The export storage is full, so the file could not be saved. Try again later, or ask an administrator to free space.',
    });
    await job(me.user.id, { finishedAt: earlier }); // before the last ask
    await job(me.user.id, { status: 'cancelled' }); // the user did that themselves
    await job(me.user.id, { delivery: 'stream' }); // downloaded at once, nothing to tell
    await job(me.user.id, { status: 'running', finishedAt: null });
    await job(other.user.id, {}); // someone else's
    const next = await caller.history.finished({ after });
    expect(next.entries.map((entry) => entry.exportId).sort()).toEqual([ready.id, failed.id].sort());
    expect(next.entries.find((entry) => entry.exportId === ready.id)).toMatchObject({
      status: 'succeeded',
      rows: 20_000,
      title: 'events',
      downloadUrl: `/api/exports/${ready.id}/download`,
    });
    expect(next.entries.find((entry) => entry.exportId === failed.id)).toMatchObject({
      status: 'failed',
      downloadUrl: null,
      error: expect.stringContaining('storage is full'),
    });
    expect(next.now.getTime()).toBeGreaterThanOrEqual(after.getTime());
  });

  it('lists every export with title, format, status, rows, size and duration; filters by status and format; shows statistics', async () => {
    const { caller } = await userWithExports();
    const all = await caller.history.list({ status: null, format: null });
    expect(all.entries).toHaveLength(3);
    expect(all.entries[0]).toMatchObject({
      title: 'products',
      format: 'csv',
      status: 'succeeded',
      rows: 120,
      delivery: 'stream',
      downloadUrl: null,
    });
    expect(all.entries[0]!.bytes).toBeGreaterThan(1000);
    expect((await caller.history.list({ status: null, format: 'json' })).entries.map((entry) => entry.format)).toEqual([
      'json',
    ]);
    expect((await caller.history.list({ status: 'failed', format: null })).entries).toEqual([]);
    expect(all.stats.map((stat) => [stat.format, stat.exports])).toEqual([
      ['csv', 2],
      ['json', 1],
    ]);
    expect(all.stats[0]!.p95Ms).toBeGreaterThanOrEqual(all.stats[0]!.medianMs);
  });

  it('"Export again" repeats an export as a new record', async () => {
    const { caller, chat } = await userWithExports();
    const [latest] = (await caller.history.list({ status: null, format: null })).entries;
    const again = await caller.history.exportAgain({ exportId: latest!.exportId });
    expect(again.exportId).not.toBe(latest!.exportId);
    expect(again.delivery).toBe('stream');
    expect((await chat.download(again.downloadUrl)).status).toBe(200);
    expect((await caller.history.list({ status: null, format: null })).entries).toHaveLength(4);
  });

  it('exports selected queries from any chat as one ZIP, and refuses a batch with a foreign id as a whole', async () => {
    const session = await newUser(app.db);
    const { caller } = await callerFor(app, session.token);
    const first = await chatSession(app, session.token);
    await first.say('show products');
    await first.say('show customers');
    const second = await chatSession(app, session.token);
    await second.say("SELECT * FROM orders WHERE status = 'paid'");
    const runs = await caller.history.queries({ chatId: null });
    expect(runs.map((run) => run.title)).toEqual(['orders', 'customers', 'products']);
    expect((await caller.history.queries({ chatId: first.chatId() })).map((run) => run.title)).toEqual([
      'customers',
      'products',
    ]);
    expect(await caller.history.queries({ chatId: 'someone-elses-or-missing' })).toEqual([]);
    const zip = await caller.history.exportQueries({ queryRunIds: runs.map((run) => run.id), format: 'csv' });
    const archive = await JSZip.loadAsync(await (await first.download(zip.downloadUrl)).arrayBuffer());
    const manifest = JSON.parse(await archive.file('manifest.json')!.async('string')) as {
      files: Array<{ file: string; rows: number }>;
    };
    expect(manifest.files.map((file) => [file.file, file.rows])).toEqual(
      runs.map((run) => [`${run.title}.csv`, run.rowCount]),
    );

    const intruder = await newUser(app.db);
    const other = await chatSession(app, intruder.token);
    await other.say('show orders');
    const theirs = (await (await callerFor(app, intruder.token)).caller.history.queries({ chatId: null }))[0]!.id;
    const refused = await caller.history
      .exportQueries({ queryRunIds: [runs[0]!.id, theirs], format: 'csv' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).code).toBe('NOT_FOUND');
    expect(
      (await (await callerFor(app, intruder.token)).caller.history.list({ status: null, format: null })).entries,
    ).toEqual([]);
    const foreignAgain = await (await callerFor(app, intruder.token)).caller.history
      .exportAgain({ exportId: zip.exportId })
      .catch((error: unknown) => error);
    expect((foreignAgain as TRPCError).code).toBe('NOT_FOUND');
  });

  it(`keeps the last ${HISTORY_KEEP_PER_USER} exports per user; the cleanup removes older ones`, async () => {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const result = await chat.say('show products');
    if (result.payload?.kind !== 'result') throw new Error(result.content);
    const base = Date.now() - 10_000_000;
    await app.db.export.createMany({
      data: Array.from({ length: HISTORY_KEEP_PER_USER + 5 }, (_, index) => ({
        userId: session.user.id,
        format: 'csv',
        status: 'succeeded',
        createdAt: new Date(base + index * 1000),
        rowCount: index,
      })),
    });
    await app.services.jobs.cleanup();
    const left = await app.db.export.findMany({ where: { userId: session.user.id }, orderBy: { createdAt: 'asc' } });
    expect(left).toHaveLength(HISTORY_KEEP_PER_USER);
    expect(left[0]!.rowCount).toBe(5);
  });
});

describe('"each its own" format in a ZIP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('sqlite');
  });
  afterAll(() => app.close());

  it('puts each query in the format it was last exported in, else the default, else CSV', async () => {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const { caller } = await callerFor(app, session.token);
    await chat.say('show products');
    await chat.say('export this as json');
    await chat.say('show customers');
    await chat.say('export this as excel');
    await chat.say('show orders');
    const runs = await caller.history.queries({ chatId: chat.chatId() });
    const own = await caller.history.exportQueries({ queryRunIds: runs.map((run) => run.id), format: 'own' });
    const zip = await JSZip.loadAsync(await (await chat.download(own.downloadUrl)).arrayBuffer());
    expect(Object.keys(zip.files).sort()).toEqual(['customers.xlsx', 'manifest.json', 'orders.csv', 'products.json']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as {
      format: string;
      files: Array<{ file: string; format: string }>;
    };
    expect(manifest.format).toBe('each its own');
    expect(manifest.files.map((file) => [file.file, file.format])).toEqual([
      ['orders.csv', 'csv'],
      ['customers.xlsx', 'xlsx'],
      ['products.json', 'json'],
    ]);
    expect((await caller.history.list({ status: null, format: null })).entries[0]!.formats.sort()).toEqual([
      'csv',
      'json',
      'xlsx',
    ]);

    // In the chat: "export all my queries as a zip" offers "Each its own" too.
    const question = await chat.say('export all my queries as a zip');
    if (question.payload?.kind !== 'choice') throw new Error(question.content);
    const eachOwn = question.payload.options.find((option) => option.label === 'Each its own')!;
    const done = await caller.chat.act({ chatId: chat.chatId()!, label: eachOwn.label, action: eachOwn.action });
    expect(done.messages[1]?.content).toBe(
      'Exporting 3 queries (6,120 rows) in one ZIP, each in its own format (products as JSON, customers as Excel, orders as CSV), with a manifest.',
    );
  });
});
