import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitUntil, type Cluster } from './cluster';
import { signUpOverHttp, type HttpUser } from './client';

// kill -9 the worker running a 500,000-row export: the other worker takes the job over once the
// heartbeat stops, and the file it writes is byte-identical to an uninterrupted export.
const EVENTS = 500_000;

describe('fault: a worker killed with SIGKILL in the middle of an export', () => {
  let cluster: Cluster;
  let user: HttpUser;
  let chatId: string;
  beforeAll(async () => {
    cluster = await startCluster({ webs: 1, workers: 2, events: EVENTS });
    user = await signUpOverHttp(cluster.webs[0]!.baseUrl, 'kill@askport.test');
    const result = await user.say(cluster.webs[0]!.baseUrl, null, 'SELECT * FROM events ORDER BY id');
    chatId = result.chatId;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function startExport(): Promise<string> {
    // XLSX: slow enough (seconds) to be caught in the middle.
    const exported = await user.say(cluster.webs[0]!.baseUrl, chatId, 'export this as excel');
    if (exported.payload?.kind !== 'export') throw new Error(`no export: ${exported.content}`);
    return exported.payload.exportId;
  }
  const fileOf = (exportId: string) => readFileSync(path.join(cluster.exportDir, `${exportId}.xlsx`));
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

  it('is taken over by the other worker and gives the same bytes as an uninterrupted export', async () => {
    const reference = await startExport();
    expect((await user.followProgress(cluster.webs[0]!.baseUrl, reference)).status).toBe('succeeded');
    const referenceFile = await cluster.db.export.findUniqueOrThrow({ where: { id: reference } });
    const referenceHash = sha256(fileOf(reference));
    // Identical exports within the hour reuse the stored file; retire this one so the next runs.
    await cluster.db.export.update({ where: { id: reference }, data: { status: 'expired' } });

    const exportId = await startExport();
    // Wait until it is well under way, then kill whichever worker runs it.
    await waitUntil('the export to be half-way', async () => {
      const record = await cluster.db.export.findUniqueOrThrow({ where: { id: exportId } });
      return record.status === 'running' && (record.rowCount ?? 0) >= 100_000;
    });
    const victim = cluster.workers.find(
      (worker) => worker.output().includes(`"exportId":"${exportId}"`) && worker.output().includes('export started'),
    )!;
    const survivor = cluster.workers.find((worker) => worker !== victim)!;
    const killedAt = Date.now();
    // The worker's process group: tsx and the node process it runs.
    process.kill(-victim.child.pid!, 'SIGKILL');
    const before = await cluster.db.export.findUniqueOrThrow({ where: { id: exportId } });
    console.log(`killed ${victim.name} at ${before.rowCount?.toLocaleString('en-US')} rows`);

    const final = await waitUntil('the export to finish', async () => {
      const record = await cluster.db.export.findUniqueOrThrow({ where: { id: exportId } });
      return ['succeeded', 'failed', 'cancelled'].includes(record.status) ? record : null;
    });
    const recoverySeconds = (Date.now() - killedAt) / 1000;
    expect(final.status).toBe('succeeded');
    expect(final.rowCount).toBe(EVENTS);
    expect(survivor.output()).toContain(`"exportId":"${exportId}"`);
    expect(sha256(fileOf(exportId))).toBe(referenceHash);
    expect(final.bytes).toBe(referenceFile.bytes);
    // The download serves the finished file.
    const download = await user.download(cluster.webs[0]!.baseUrl, `/api/exports/${exportId}/download`);
    expect(download.status).toBe(200);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(referenceHash);
    console.log(
      `taken over by ${survivor.name}; finished ${recoverySeconds.toFixed(1)} s after the kill; SHA-256 ${sha256(fileOf(exportId)).slice(0, 16)}… equals the uninterrupted export's`,
    );
  });
});
