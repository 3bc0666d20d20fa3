import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster';
import { signUpOverHttp } from './client';

// Two web instances and two workers on one PostgreSQL: an export started through web A is followed
// and downloaded through web B, and one of the workers (not a web instance) runs it.
const EVENTS = 150_000;

describe('multi-instance: 2 web + 2 workers on one PostgreSQL', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ webs: 2, workers: 2, events: EVENTS });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts an export on web A, follows its progress and downloads it on web B', async () => {
    const [webA, webB] = cluster.webs;
    const user = await signUpOverHttp(webA!.baseUrl, 'multi@askport.test');
    const result = await user.say(webA!.baseUrl, null, 'SELECT * FROM events ORDER BY id');
    expect(result.payload?.kind).toBe('result');
    const exported = await user.say(webA!.baseUrl, result.chatId, 'export this as csv');
    if (exported.payload?.kind !== 'export') throw new Error(`no export: ${exported.content}`);
    expect(exported.payload.delivery).toBe('file');
    const exportId = exported.payload.exportId;

    const seen: string[] = [];
    const final = await user.followProgress(webB!.baseUrl, exportId, (progress) => seen.push(progress.status));
    expect(final.status).toBe('succeeded');
    expect(final.rowsWritten).toBe(EVENTS);

    const download = await user.download(webB!.baseUrl, exported.payload.downloadUrl);
    expect(download.status).toBe(200);
    const text = await download.text();
    expect(parse(text, { bom: true, relax_column_count: false })).toHaveLength(EVENTS + 1);

    // A worker ran it: its log has the start; the web instances do not work the queue.
    const runners = [...cluster.workers, ...cluster.webs].filter(
      (process) => process.output().includes(`"exportId":"${exportId}"`) && process.output().includes('export started'),
    );
    expect(runners.map((runner) => runner.name)).toHaveLength(1);
    expect(runners[0]!.name).toMatch(/^worker/);
    console.log(
      `export ${exportId}: started on web A, progress on web B (${seen.join(' → ')}), ran on ${runners[0]!.name}, downloaded from web B`,
    );
  });
});
