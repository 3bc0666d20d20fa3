import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planExport } from '@/server/export/plan';
import { chatSession } from '../helpers/chat';
import { createTestApp, DIFFERENT_EXPORTS, type TestApp } from '../helpers/databases';
import { newUser } from '../helpers/users';

process.env.EXPORT_RATE_LIMIT_PER_MINUTE = '1000';

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out; last value: ${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// App database on PostgreSQL: export jobs go through pg-boss, worked by the web process or by
// `npm run worker` processes.
describe('export jobs through pg-boss', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('postgresql', { events: 30_000, pgBoss: { work: true } });
  });
  afterAll(() => app.close());

  async function bigRun() {
    const session = await newUser(app.db);
    const chat = await chatSession(app, session.token);
    const result = await chat.say('SELECT * FROM events ORDER BY id');
    if (result.payload?.kind !== 'result') throw new Error(result.content);
    return { session, chat, runId: result.payload.queryRunId };
  }

  it('runs a job asked for in the chat to a stored file', async () => {
    const { chat } = await bigRun();
    const reply = await chat.say('export this as csv');
    if (reply.payload?.kind !== 'export') throw new Error(reply.content);
    const exportId = reply.payload.exportId;
    const done = await waitFor(
      () => app.db.export.findUniqueOrThrow({ where: { id: exportId } }),
      (record) => record.status !== 'queued' && record.status !== 'running',
    );
    expect(done).toMatchObject({ status: 'succeeded', rowCount: 30_000, filePath: `${exportId}.csv` });
    expect(existsSync(path.join(app.exportDir, `${exportId}.csv`))).toBe(true);
  });

  it('keeps each user to two running jobs across the queue', async () => {
    const { session, chat, runId } = await bigRun();
    const ids: string[] = [];
    // Five different exports: an identical one whose file is already kept would be reused, not run.
    for (const [format, archive] of DIFFERENT_EXPORTS) {
      const record = await (
        await planExport(app.services, session.user, {
          contents: { queryRunIds: [runId] },
          format,
          archive,
          chatId: chat.chatId(),
        })
      ).record;
      ids.push(record.id);
      app.services.jobs.enqueue(record.id);
    }
    let worst = 0;
    await waitFor(
      async () => {
        const states = await app.db.export.findMany({ where: { id: { in: ids } }, select: { status: true } });
        worst = Math.max(worst, states.filter((state) => state.status === 'running').length);
        return states;
      },
      (states) => states.every((state) => state.status === 'succeeded'),
      60_000,
    );
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('`npm run worker` in its own process runs what a web instance queued; a cancel from the web reaches it', async () => {
    // A web instance that only queues (EXPORT_WORK_IN_WEB=false): all the work is the worker's.
    const web = await createTestApp('postgresql', { events: 30_000, pgBoss: { work: false } });
    const worker = spawn('npm', ['run', '--silent', 'worker'], {
      env: {
        ...process.env,
        DATABASE_URL: web.appDatabaseUrl,
        DATA_DATABASE_URL: `file:${web.demoDataFile}`,
        EXPORT_STORAGE_DIR: web.exportDir,
        LOG_LEVEL: 'info',
        VITEST: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(
        async () => output,
        (text) => text.includes('export worker ready'),
        30_000,
      );
      const session = await newUser(web.db);
      const chat = await chatSession(web, session.token);
      const result = await chat.say('SELECT * FROM events ORDER BY id');
      if (result.payload?.kind !== 'result') throw new Error(result.content);
      const reply = await chat.say('export this as json');
      if (reply.payload?.kind !== 'export') throw new Error(reply.content);
      const exportId = reply.payload.exportId;
      const done = await waitFor(
        () => web.db.export.findUniqueOrThrow({ where: { id: exportId } }),
        (state) => state.status === 'succeeded' || state.status === 'failed',
        30_000,
      );
      expect(done.status).toBe('succeeded');
      expect(existsSync(path.join(web.exportDir, `${exportId}.json`))).toBe(true);
      expect(output).toContain(`"exportId":"${exportId}"`);

      // A long one, cancelled from the web instance while the worker runs it.
      const long = await chat.say(
        'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r LIMIT 3000000) SELECT n FROM r',
      );
      if (long.payload?.kind !== 'result') throw new Error(long.content);
      const slow = await chat.say('export this as csv');
      if (slow.payload?.kind !== 'export') throw new Error(slow.content);
      const slowId = slow.payload.exportId;
      await waitFor(
        () => web.db.export.findUniqueOrThrow({ where: { id: slowId } }),
        (state) => (state.rowCount ?? 0) > 0,
        30_000,
      );
      expect((await chat.say('cancel the export')).content).toBe('Cancelled the export.');
      const cancelled = await waitFor(
        () => web.db.export.findUniqueOrThrow({ where: { id: slowId } }),
        (state) => state.status !== 'running',
        10_000,
      );
      expect(cancelled.status).toBe('cancelled');
      expect(existsSync(path.join(web.exportDir, `${slowId}.csv`))).toBe(false);
    } finally {
      if (worker.pid) process.kill(-worker.pid, 'SIGTERM');
      await new Promise((resolve) => worker.once('exit', resolve));
      await web.close();
    }
  }, 90_000);
});
