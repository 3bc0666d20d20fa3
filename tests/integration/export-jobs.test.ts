import { readdirSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportProgress } from '@/lib/export-progress';
import { planExport } from '@/server/export/plan';
import { exportQueryRuns } from '@/server/export/service';
import { updatePreferences } from '@/server/preferences/service';
import { createInProcessExportJobs } from '@/server/jobs/export-jobs';
import { currentProgress, followProgress } from '@/server/jobs/progress';
import { chatSession } from '../helpers/chat';
import { createTestApp, DIFFERENT_EXPORTS, PROVIDERS, TEST_JOB_OPTIONS, type TestApp } from '../helpers/databases';
import { newUser } from '../helpers/users';

const EVENTS = 25_000;

async function untilDone(app: TestApp, userId: string, exportId: string): Promise<ExportProgress[]> {
  const seen: ExportProgress[] = [];
  for await (const progress of followProgress(app.services, userId, exportId, undefined, 100)) seen.push(progress);
  return seen;
}

/** Services whose queue starts nothing: the runner under test is then the only one to claim a job. */
function withoutQueueing(app: TestApp) {
  return { ...app.services, jobs: { ...app.services.jobs, enqueue: () => undefined } };
}

describe.each(PROVIDERS)('export jobs above the threshold, app database on %s', (provider) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(provider, { events: EVENTS });
  });
  afterAll(() => app.close());

  async function bigResult() {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    await chat.say('SELECT * FROM events ORDER BY id');
    return { chat, userId: session.user.id };
  }

  it('becomes a job with progress, writes a file served for an hour, and an identical request reuses it', async () => {
    const { chat, userId } = await bigResult();
    const reply = await chat.say('export this as csv');
    expect(reply.content).toBe(
      `Preparing ${EVENTS.toLocaleString('en-US')} rows as CSV — opens in any spreadsheet. It downloads when ready and stays available for an hour.`,
    );
    if (reply.payload?.kind !== 'export') throw new Error(reply.content);
    expect(reply.payload.delivery).toBe('file');
    const progress = await untilDone(app, userId, reply.payload.exportId);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ status: 'succeeded', rowsWritten: EVENTS, totalRows: EVENTS, percent: 100 });
    expect(progress.filter((event) => event.status === 'running').length).toBeGreaterThanOrEqual(2);
    const written = progress.map((event) => event.rowsWritten);
    expect(written).toEqual([...written].sort((a, b) => a - b));
    expect(last.expiresAt!.getTime() - Date.now()).toBeGreaterThan(59 * 60_000);

    const response = await chat.download(reply.payload.downloadUrl);
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBe(last.bytes);
    expect(parse(await response.text(), { columns: true, record_delimiter: '\r\n' })).toHaveLength(EVENTS);
    const exportId = reply.payload.exportId;
    expect(readdirSync(app.exportDir).filter((name) => name.startsWith(exportId))).toEqual([`${exportId}.csv`]);

    const again = await chat.say('export this as csv');
    expect(again.content).toMatch(
      /^The same export \(25,000 rows as CSV — opens in any spreadsheet\) finished \d+ min ago and is still available: downloading that file\.$/,
    );
    expect(again.payload).toMatchObject({ kind: 'export', exportId: reply.payload.exportId });
  });

  it.each(['csv', 'json', 'xlsx'] as const)(
    'gives the same %s bytes as a job file and as a direct stream',
    async (format) => {
      const { chat, userId } = await bigResult();
      const run = await app.db.queryRun.findFirstOrThrow({ where: { userId } });
      const user = { id: userId, email: '', name: '' };
      const job = await (
        await planExport(app.services, user, {
          contents: { queryRunIds: [run.id] },
          format,
          archive: false,
          chatId: chat.chatId(),
        })
      ).record;
      app.services.jobs.enqueue(job.id);
      await untilDone(app, userId, job.id);
      const stream = await (
        await planExport(app.services, user, {
          contents: { queryRunIds: [run.id] },
          format,
          archive: false,
          chatId: chat.chatId(),
          streamOnly: true,
        })
      ).record;
      const fromFile = Buffer.from(await (await chat.download(`/api/exports/${job.id}/download`)).arrayBuffer());
      const fromStream = Buffer.from(await (await chat.download(`/api/exports/${stream.id}/download`)).arrayBuffer());
      if (format === 'xlsx') {
        // A workbook's zip entries carry their write time; compare what the sheets hold instead.
        const read = async (bytes: Buffer) => {
          const workbook = new ExcelJS.Workbook();
          await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
          const values: unknown[] = [];
          workbook.worksheets[0]!.eachRow((row) => values.push(row.values));
          return values;
        };
        expect(await read(fromFile)).toEqual(await read(fromStream));
      } else {
        expect(fromFile.equals(fromStream)).toBe(true);
      }
      expect(fromFile.byteLength).toBeGreaterThan(100_000);
    },
  );

  it('cancel stops a running job and leaves no file, partial or whole', async () => {
    const session = await newUser(app.db);
    const userId = session.user.id;
    const chat = await chatSession(app, session.token);
    // Long enough (1.5 million generated rows) that the cancel lands while the job runs.
    await chat.say(
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 1500000) SELECT n, n * 2 AS twice FROM r',
    );
    const reply = await chat.say('export this as json');
    if (reply.payload?.kind !== 'export') throw new Error(reply.content);
    const exportId = reply.payload.exportId;
    expect((await chat.say('cancel the export')).content).toBe('Cancelled the export.');
    const last = (await untilDone(app, userId, exportId)).at(-1)!;
    expect(last.status).toBe('cancelled');
    expect(readdirSync(app.exportDir).filter((name) => name.startsWith(exportId))).toEqual([]);
    const response = await chat.download(reply.payload.downloadUrl);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'This export was cancelled. Ask again to export it.' });
  });

  it('expired files are removed by the cleanup task and the download says so', async () => {
    const { chat, userId } = await bigResult();
    const reply = await chat.say('export this as csv');
    if (reply.payload?.kind !== 'export') throw new Error(reply.content);
    await untilDone(app, userId, reply.payload.exportId);
    const removed = await app.services.jobs.cleanup(new Date(Date.now() + 2 * 60 * 60_000));
    expect(removed).toBeGreaterThanOrEqual(1);
    expect((await currentProgress(app.services, userId, reply.payload.exportId)).status).toBe('expired');
    const exportId = reply.payload.exportId;
    expect(readdirSync(app.exportDir).filter((name) => name.startsWith(exportId))).toEqual([]);
    const response = await chat.download(reply.payload.downloadUrl);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'That export file (files are kept for an hour) was not found.' });
  });

  it('decides stream or job on the server: a result above the threshold says so, and its chips start a job', async () => {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const big = await chat.say('SELECT * FROM events ORDER BY id');
    const small = await chat.say('SELECT * FROM events ORDER BY id LIMIT 5');
    if (big.payload?.kind !== 'result' || small.payload?.kind !== 'result') throw new Error('expected results');
    expect(big.payload.exportDelivery).toBe('file');
    expect(small.payload.exportDelivery).toBe('stream');
  });

  it('writes a job with the options it was planned with, even if the preferences change before it runs', async () => {
    const { chat, userId } = await bigResult();
    const run = await app.db.queryRun.findFirstOrThrow({ where: { userId } });
    const user = { id: userId, email: '', name: '' };
    await updatePreferences(app.db, userId, { csvByteOrderMark: false });
    const plan = await planExport(withoutQueueing(app), user, {
      contents: { queryRunIds: [run.id] },
      format: 'csv',
      archive: false,
      chatId: chat.chatId(),
    });
    expect(plan.delivery).toBe('file');
    await updatePreferences(app.db, userId, { csvByteOrderMark: true });
    app.services.jobs.enqueue(plan.record.id);
    await untilDone(app, userId, plan.record.id);
    const bytes = Buffer.from(await (await chat.download(`/api/exports/${plan.record.id}/download`)).arrayBuffer());
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(bytes.subarray(0, 3).toString()).toBe('id,');
    // Asked again now, the options differ: a new file, not the one above.
    const again = await planExport(withoutQueueing(app), user, {
      contents: { queryRunIds: [run.id] },
      format: 'csv',
      archive: false,
      chatId: chat.chatId(),
    });
    expect(again.reused).toBe(false);
    expect(again.record.id).not.toBe(plan.record.id);
  });

  it("reuses history's ZIP of the same queries while its file is kept", async () => {
    const { userId } = await bigResult();
    const runs = await app.db.queryRun.findMany({ where: { userId } });
    const user = { id: userId, email: '', name: '' };
    const first = await exportQueryRuns(app.services, user, [runs[0]!.id], 'json');
    expect(first.delivery).toBe('file');
    await untilDone(app, userId, first.exportId);
    const second = await exportQueryRuns(app.services, user, [runs[0]!.id], 'json');
    expect(second.exportId).toBe(first.exportId);
    const otherFormat = await exportQueryRuns(app.services, user, [runs[0]!.id], 'csv');
    expect(otherFormat.exportId).not.toBe(first.exportId);
    await untilDone(app, userId, otherFormat.exportId);
  });

  it('runs at most two jobs per user at once; the rest wait in order and all succeed', async () => {
    const { chat, userId } = await bigResult();
    const runs = await app.db.queryRun.findMany({ where: { userId } });
    const user = { id: userId, email: '', name: '' };
    const ids: string[] = [];
    // Five different exports: an identical one whose file is already kept would be reused, not run.
    for (const [format, archive] of DIFFERENT_EXPORTS) {
      const plan = await planExport(app.services, user, {
        contents: { queryRunIds: [runs[0]!.id] },
        format,
        archive,
        chatId: chat.chatId(),
      });
      ids.push(plan.record.id);
    }
    app.services.jobs.enqueue();
    let maxRunning = 0;
    const startedOrder: string[] = [];
    for (;;) {
      const states = await app.db.export.findMany({
        where: { id: { in: ids } },
        select: { id: true, status: true },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const runningNow = states.filter((state) => state.status === 'running');
      maxRunning = Math.max(maxRunning, runningNow.length);
      for (const state of states)
        if (state.status !== 'queued' && !startedOrder.includes(state.id)) startedOrder.push(state.id);
      if (states.every((state) => state.status === 'succeeded')) break;
      if (states.some((state) => state.status === 'failed' || state.status === 'cancelled')) {
        const bad = await app.db.export.findMany({
          where: { id: { in: ids }, status: { in: ['failed', 'cancelled'] } },
          select: { status: true, error: true },
        });
        throw new Error(`a job did not succeed: ${JSON.stringify(bad)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(startedOrder.slice(0, 2).sort()).toEqual(ids.slice(0, 2).sort());
    expect(startedOrder.at(-1)).toBe(ids.at(-1));
  });

  it("never starts a user's later job before an older one, even when a running job ends between two claims", async () => {
    const { chat, userId } = await bigResult();
    const [run] = await app.db.queryRun.findMany({ where: { userId } });
    const user = { id: userId, email: '', name: '' };
    const planning = withoutQueueing(app);
    const older = await (
      await planExport(planning, user, {
        contents: { queryRunIds: [run!.id] },
        format: 'csv',
        archive: false,
        chatId: chat.chatId(),
      })
    ).record;
    const newer = await (
      await planExport(planning, user, {
        contents: { queryRunIds: [run!.id] },
        format: 'json',
        archive: false,
        chatId: chat.chatId(),
      })
    ).record;
    // The interleaving made certain: the first claim finds the user at the limit, the next finds
    // one of their jobs already ended. Claims are recorded in the order they succeed.
    let runningCounts = 0;
    const claims: string[] = [];
    const exports = new Proxy(app.db.export, {
      get(model, name) {
        if (name === 'count')
          return async (args: Parameters<typeof model.count>[0]) =>
            runningCounts++ === 0 ? TEST_JOB_OPTIONS.maxRunningPerUser : model.count(args);
        if (name === 'updateMany') {
          return async (args: Parameters<typeof model.updateMany>[0]) => {
            const result = await model.updateMany(args);
            if (args.data.status === 'running' && result.count === 1 && typeof args.where?.id === 'string')
              claims.push(args.where.id);
            return result;
          };
        }
        const value: unknown = Reflect.get(model, name);
        return typeof value === 'function' ? value.bind(model) : value;
      },
    });
    const db = new Proxy(app.db, { get: (client, name) => (name === 'export' ? exports : Reflect.get(client, name)) });
    const runner = createInProcessExportJobs({ ...app.services, db }, TEST_JOB_OPTIONS);
    try {
      runner.enqueue();
      while (claims.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(claims).toEqual([older.id, newer.id]);
      for (const id of claims) await untilDone(app, userId, id);
    } finally {
      await runner.close();
    }
  });

  it('after a restart nothing stays "running": jobs start again, interrupted streams are failed', async () => {
    const { chat, userId } = await bigResult();
    const run = (await app.db.queryRun.findFirstOrThrow({ where: { userId } })).id;
    const user = { id: userId, email: '', name: '' };
    const job = await (
      await planExport(withoutQueueing(app), user, {
        contents: { queryRunIds: [run] },
        format: 'csv',
        archive: false,
        chatId: chat.chatId(),
      })
    ).record;
    const stream = await (
      await planExport(app.services, user, {
        contents: { queryRunIds: [run] },
        format: 'csv',
        archive: false,
        chatId: chat.chatId(),
        streamOnly: true,
      })
    ).record;
    // As a crash would leave them.
    await app.db.export.updateMany({ where: { id: { in: [job.id, stream.id] } }, data: { status: 'running' } });
    const restarted = createInProcessExportJobs(app.services, TEST_JOB_OPTIONS);
    try {
      const last = await (async () => {
        for (;;) {
          const record = await app.db.export.findUniqueOrThrow({ where: { id: job.id } });
          if (record.status === 'succeeded' || record.status === 'failed') return record;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      expect(last.status).toBe('succeeded');
      expect(last.rowCount).toBe(EVENTS);
      expect(await app.db.export.findUniqueOrThrow({ where: { id: stream.id } })).toMatchObject({
        status: 'failed',
        error: 'The server restarted during the download.',
      });
    } finally {
      await restarted.close();
    }
  });

  it("answers another user's export progress and cancel exactly like a missing one", async () => {
    const { chat, userId } = await bigResult();
    const reply = await chat.say('export this as csv');
    if (reply.payload?.kind !== 'export') throw new Error(reply.content);
    const intruder = await newUser(app.db);
    await expect(currentProgress(app.services, intruder.user.id, reply.payload.exportId)).rejects.toThrow(
      'That export was not found.',
    );
    await expect(app.services.jobs.cancel(intruder.user.id, reply.payload.exportId)).rejects.toThrow(
      'That export was not found.',
    );
    await untilDone(app, userId, reply.payload.exportId);
  });
});
