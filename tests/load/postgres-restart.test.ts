import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitUntil, type Cluster } from './cluster';
import { signUpOverHttp, type HttpUser } from './client';

// PostgreSQL (app database, job queue and data source at once) restarts in the middle of a
// 500,000-row export. The job may fail with a sentence or be retried, but it never stays "running",
// a partial file is never served, and every process keeps working once the server is back.
const EVENTS = 500_000;

/** The local cluster serving 127.0.0.1:5432, as `pg_lsclusters` names it ("15 main"). */
function localCluster(): [string, string] {
  const listed = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' });
  const line = listed.stdout.split('\n').find((row) => row.split(/\s+/)[2] === '5432');
  if (listed.status !== 0 || !line)
    throw new Error('this script restarts PostgreSQL with pg_ctlcluster and needs the Debian cluster on port 5432');
  const [version, name] = line.split(/\s+/);
  return [version!, name!];
}

describe('fault: PostgreSQL restarts during an export', () => {
  let cluster: Cluster;
  let user: HttpUser;
  let chatId: string;
  beforeAll(async () => {
    cluster = await startCluster({ webs: 1, workers: 2, events: EVENTS });
    user = await signUpOverHttp(cluster.webs[0]!.baseUrl, 'restart@askport.test');
    chatId = (await user.say(cluster.webs[0]!.baseUrl, null, 'SELECT * FROM events ORDER BY id')).chatId;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const web = () => cluster.webs[0]!.baseUrl;
  async function startExport(): Promise<string> {
    const exported = await user.say(web(), chatId, 'export this as excel');
    if (exported.payload?.kind !== 'export') throw new Error(`no export: ${exported.content}`);
    return exported.payload.exportId;
  }
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('ends the job failed or finished, never running, and serves no partial file', async () => {
    const reference = await startExport();
    expect((await user.followProgress(web(), reference)).status).toBe('succeeded');
    const referenceHash = sha256(readFileSync(path.join(cluster.exportDir, `${reference}.xlsx`)));
    await cluster.db.export.update({ where: { id: reference }, data: { status: 'expired' } });

    const exportId = await startExport();
    await waitUntil('the export to be under way', async () => {
      const record = await cluster.db.export.findUniqueOrThrow({ where: { id: exportId } });
      return record.status === 'running' && (record.rowCount ?? 0) >= 100_000;
    });
    const [version, name] = localCluster();
    const restartStarted = Date.now();
    const restarted = spawnSync('pg_ctlcluster', [version, name, 'restart', '--', '-m', 'fast'], { encoding: 'utf8' });
    expect(restarted.status, restarted.stderr).toBe(0);
    const restartSeconds = (Date.now() - restartStarted) / 1000;

    // While it is unsettled, a download never gets a partial file.
    const during = await user.download(web(), `/api/exports/${exportId}/download`).catch(() => null);
    if (during) expect(during.status).not.toBe(200);

    const final = await waitUntil(
      'the export to leave "running"',
      async () => {
        const record = await cluster.db.export.findUniqueOrThrow({ where: { id: exportId } });
        return ['succeeded', 'failed', 'cancelled'].includes(record.status) ? record : null;
      },
      180_000,
    );
    const settledSeconds = (Date.now() - restartStarted) / 1000;
    expect(['succeeded', 'failed']).toContain(final.status);
    const leftovers = readdirSync(cluster.exportDir).filter((file) => file.startsWith(exportId));
    const download = await user.download(web(), `/api/exports/${exportId}/download`);
    if (final.status === 'succeeded') {
      // Retried from the start: the whole file, the same bytes as without the restart.
      expect(final.rowCount).toBe(EVENTS);
      expect(leftovers).toEqual([`${exportId}.xlsx`]);
      expect(download.status).toBe(200);
      expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(referenceHash);
    } else {
      expect(final.error).toMatch(/^[A-Z].*\.$/);
      expect(leftovers).toEqual([]);
      expect(download.status).toBe(400);
    }

    // Every process is still alive and works: a new export runs and its progress arrives.
    for (const process of [...cluster.webs, ...cluster.workers])
      expect(process.child.exitCode, `${process.name} exited`).toBeNull();
    const rows = await user.say(web(), null, 'SELECT * FROM events WHERE id <= 20000 ORDER BY id');
    expect(rows.payload?.kind).toBe('result');
    const after = await user.say(web(), rows.chatId, 'export this as csv');
    if (after.payload?.kind !== 'export' || after.payload.delivery !== 'file')
      throw new Error(`no export job after the restart: ${after.content}`);
    expect((await user.followProgress(web(), after.payload.exportId)).status).toBe('succeeded');
    expect(existsSync(path.join(cluster.exportDir, `${exportId}.xlsx.part`))).toBe(false);
    console.log(
      `PostgreSQL restart took ${restartSeconds.toFixed(1)} s at ${'≥'}100,000 of ${EVENTS.toLocaleString('en-US')} rows; ` +
        `the export ended ${final.status}${final.error ? ` ("${final.error}")` : ''} ${settledSeconds.toFixed(1)} s after the restart began`,
    );
  });
});
