import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '@/server/auth/service';
import { handleExportDownload, handleQueryRunDownload } from '@/server/export/download-route';
import { planExport } from '@/server/export/plan';
import { createInProcessExportJobs } from '@/server/jobs/export-jobs';
import type { DataSource, EncodedStream, RowStream } from '@/server/query/data-source';
import { chatSession } from '../helpers/chat';
import { createTestApp, DIFFERENT_EXPORTS, TEST_JOB_OPTIONS } from '../helpers/databases';
import { newUser } from '../helpers/users';

// Raised for this file only (each test file runs in its own process): the point here is many
// exports in a short time, not the rate limit, which tests of its own cover.
process.env.EXPORT_RATE_LIMIT_PER_MINUTE = '1000';

/** Node processes this process started that are still alive (the SQLite query processes). */
function childProcesses(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') count++;
    } catch {
      // gone meanwhile
    }
  }
  return count;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('export reliability', () => {
  describe('100 downloads aborted mid-stream', () => {
    it.each(['sqlite', 'postgresql'] as const)(
      'leave no cursor, query process or connection behind (%s data source)',
      async (dataSource) => {
        const app = await createTestApp('sqlite', { events: 9_000, dataSource });
        try {
          const session = await newUser(app.db);
          const chat = await chatSession(app, session.token);
          const result = await chat.say('SELECT * FROM events ORDER BY id');
          if (result.payload?.kind !== 'result') throw new Error(result.content);
          const runId = result.payload.queryRunId;
          const baseline = childProcesses();
          for (let attempt = 0; attempt < 100; attempt++) {
            const request = new Request(`http://localhost/api/query-runs/${runId}/download?format=json`, {
              headers: { cookie: `${SESSION_COOKIE}=${session.token}` },
            });
            const response = await handleQueryRunDownload(request, runId, app.services);
            expect(response.status).toBe(200);
            const reader = response.body!.getReader();
            await reader.read();
            await reader.cancel();
          }
          await waitFor(async () => (await app.db.export.count({ where: { status: 'running' } })) === 0);
          expect(await app.db.export.count({ where: { status: 'cancelled' } })).toBe(100);
          // At most the one warm spare query process remains (SQLite); no connection stays busy (PostgreSQL).
          await waitFor(() => childProcesses() <= Math.max(baseline, 1));
          if (dataSource === 'postgresql') {
            const admin = new pg.Client({
              connectionString: process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
            });
            await admin.connect();
            const busy = await admin.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'askport_test_%' AND state = 'active' AND query ILIKE '%events%'",
            );
            await admin.end();
            expect(busy.rows[0].n).toBe(0);
          }
        } finally {
          await app.close();
        }
      },
    );
  });

  it('a data source error in the middle of a job: failed, the message shown, no file', async () => {
    const app = await createTestApp('sqlite', { events: 12_000 });
    try {
      // The data source breaks after 3 batches, as a dropped connection would.
      const real = app.services.dataSource;
      const breaking: DataSource = {
        ...real,
        async stream(sql, options) {
          const rows = await real.stream(sql, options);
          return {
            columns: rows.columns,
            close: rows.close,
            async *[Symbol.asyncIterator]() {
              let batches = 0;
              for await (const batch of rows) {
                if (++batches > 3) throw new Error('connection to the data source was lost');
                yield batch;
              }
            },
          } satisfies RowStream;
        },
        async streamEncoded(sql, file) {
          const encoded = real.streamEncoded ? await real.streamEncoded(sql, file) : null;
          if (!encoded) return null;
          return {
            columns: encoded.columns,
            close: encoded.close,
            async *[Symbol.asyncIterator]() {
              let batches = 0;
              for await (const batch of encoded) {
                if (++batches > 3) throw new Error('connection to the data source was lost');
                yield batch;
              }
            },
          } satisfies EncodedStream;
        },
      };
      const services = { ...app.services, dataSource: breaking };
      const jobs = createInProcessExportJobs(services, TEST_JOB_OPTIONS);
      services.jobs = jobs;
      const session = await newUser(app.db);
      const chat = await chatSession(app, session.token);
      const result = await chat.say('SELECT * FROM events ORDER BY id');
      if (result.payload?.kind !== 'result') throw new Error(result.content);
      const record = await (
        await planExport(services, session.user, {
          contents: { queryRunIds: [result.payload.queryRunId] },
          format: 'csv',
          archive: false,
          chatId: chat.chatId(),
        })
      ).record;
      jobs.enqueue();
      await waitFor(
        async () => (await app.db.export.findUniqueOrThrow({ where: { id: record.id } })).status === 'failed',
      );
      const failed = await app.db.export.findUniqueOrThrow({ where: { id: record.id } });
      expect(failed.error).toBe('The export failed. Please try again.');
      expect(failed.filePath).toBeNull();
      expect(readdirSync(app.exportDir).filter((name) => name.startsWith(record.id))).toEqual([]);
      const response = await handleExportDownload(
        new Request(`http://localhost/api/exports/${record.id}/download`, {
          headers: { cookie: `${SESSION_COOKIE}=${session.token}` },
        }),
        record.id,
        services,
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'This export failed: The export failed. Please try again.' });
      await jobs.close();
    } finally {
      await app.close();
    }
  });

  it('20 concurrent 100,000-row exports by 4 users all succeed, never more than 2 running per user', async () => {
    const app = await createTestApp('sqlite', { events: 100_000 });
    try {
      const users = await Promise.all([0, 1, 2, 3].map(() => newUser(app.db)));
      const ids: string[] = [];
      for (const session of users) {
        const chat = await chatSession(app, session.token);
        const result = await chat.say('SELECT * FROM events ORDER BY id');
        if (result.payload?.kind !== 'result') throw new Error(result.content);
        const runId = result.payload.queryRunId;
        // Five different exports each: an identical one whose file is already kept would be reused.
        const created = await Promise.all(
          DIFFERENT_EXPORTS.map(([format, archive]) =>
            planExport(app.services, session.user, {
              contents: { queryRunIds: [runId] },
              format,
              archive,
              chatId: chat.chatId(),
            }),
          ),
        );
        ids.push(...created.map((plan) => plan.record.id));
      }
      app.services.jobs.enqueue();
      let worst = 0;
      await waitFor(async () => {
        const states = await app.db.export.findMany({
          where: { id: { in: ids } },
          select: { userId: true, status: true },
        });
        for (const session of users)
          worst = Math.max(
            worst,
            states.filter((state) => state.userId === session.user.id && state.status === 'running').length,
          );
        if (states.some((state) => state.status === 'failed' || state.status === 'cancelled'))
          throw new Error('an export did not succeed');
        return states.every((state) => state.status === 'succeeded');
      }, 120_000);
      expect(worst).toBeLessThanOrEqual(2);
      const finished = await app.db.export.findMany({ where: { id: { in: ids } } });
      expect(finished.every((record) => record.rowCount === 100_000)).toBe(true);
    } finally {
      await app.close();
    }
  }, 180_000);
});
