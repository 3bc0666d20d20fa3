import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster';
import { signUpOverHttp } from './client';

// Export storage on a 1 MB tmpfs: an export larger than that fails with a sentence, leaves no
// partial file, and serves nothing.
const EVENTS = 60_000;

describe('fault: the disk of export storage is full', () => {
  const mountPoint = mkdtempSync(path.join(tmpdir(), 'askport-tiny-'));
  let cluster: Cluster;
  beforeAll(async () => {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    if (mounted.status !== 0) throw new Error(`this script mounts a 1 MB tmpfs and needs root: ${mounted.stderr}`);
    cluster = await startCluster({ webs: 1, workers: 1, events: EVENTS, exportDir: mountPoint });
  });
  afterAll(async () => {
    await cluster?.stop();
    spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('fails the export with a clear message, no partial file, nothing to download', async () => {
    const web = cluster.webs[0]!.baseUrl;
    const user = await signUpOverHttp(web, 'full@askport.test');
    const result = await user.say(web, null, 'SELECT * FROM events ORDER BY id');
    const exported = await user.say(web, result.chatId, 'export this as json');
    if (exported.payload?.kind !== 'export') throw new Error(`no export: ${exported.content}`);
    const final = await user.followProgress(web, exported.payload.exportId);
    expect(final.status).toBe('failed');
    expect(final.error).toBe(
      'The export storage is full, so the file could not be saved. Try again later, or ask an administrator to free space.',
    );
    expect(readdirSync(mountPoint)).toEqual([]);
    // The owner asking for the file is told why there is none; nothing is served.
    const download = await user.download(web, exported.payload.downloadUrl);
    expect(download.status).toBe(400);
    expect(await download.json()).toEqual({ error: `This export failed: ${final.error}` });
    // A small export still fits afterwards: the space was given back.
    const small = await user.say(web, result.chatId, 'SELECT * FROM customers ORDER BY id LIMIT 20');
    expect(small.payload?.kind).toBe('result');
    console.log(
      `storage full: "${final.error}" after ${final.rowsWritten.toLocaleString('en-US')} rows; no file left behind`,
    );
  });
});
