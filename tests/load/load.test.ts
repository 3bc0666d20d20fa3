import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './cluster';
import { signUpOverHttp, type HttpUser } from './client';

// 50 people at once for 60 s on 2 web instances and 2 workers (PostgreSQL for everything): each
// signs up, asks questions in the chat, exports small results (streamed straight down) and
// 100,000-row results (jobs with progress), and downloads what they exported. Figures are printed;
// the test asserts correctness only (no errors, every file complete), never timing.
const USERS = Number(process.env.LOAD_USERS ?? 50);
const DURATION_MS = Number(process.env.LOAD_SECONDS ?? 60) * 1_000;
const EVENTS = 300_000;
const BIG_EXPORT_ROWS = 100_000;

const QUESTIONS = [
  'show orders',
  'show customers',
  'SELECT type, count(*) AS events FROM events GROUP BY type ORDER BY type',
  'SELECT * FROM customers ORDER BY id LIMIT 200',
];

type Kind =
  | 'sign-up'
  | 'chat'
  | 'small export start'
  | 'small download'
  | 'big export start'
  | 'big export done'
  | 'big download';

class Recorder {
  readonly samples = new Map<Kind, number[]>();
  readonly errors: string[] = [];
  async time<T>(kind: Kind, action: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const value = await action();
    const list = this.samples.get(kind) ?? [];
    list.push(performance.now() - started);
    this.samples.set(kind, list);
    return value;
  }
}

/** CSV records: CRLF ends outside quotes (descriptions hold line breaks inside quotes). */
function csvRecords(csv: string): number {
  let records = 0;
  let quoted = false;
  for (let index = 0; index < csv.length; index++) {
    const code = csv.charCodeAt(index);
    if (code === 34) quoted = !quoted;
    else if (code === 13 && !quoted && csv.charCodeAt(index + 1) === 10) records++;
  }
  return records;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

describe(`load: ${USERS} users for ${DURATION_MS / 1000} s on 2 web instances and 2 workers`, () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // The per-user export rate limit (10 a minute by default) would turn a busy simulated user's
    // exports into 429s; this measures the system, not the limit (tested in the integration suite).
    cluster = await startCluster({
      webs: 2,
      workers: 2,
      events: EVENTS,
      env: { EXPORT_RATE_LIMIT_PER_MINUTE: '10000' },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves every request without an error', async () => {
    const recorder = new Recorder();
    const sampler = setInterval(() => cluster.sampleRss(), 250);
    const deadline = Date.now() + DURATION_MS;
    let requests = 0;
    let bytesDownloaded = 0;

    async function expectFile(
      user: HttpUser,
      web: string,
      url: string,
      kind: Kind,
      expectedLines: number,
    ): Promise<void> {
      const body = await recorder.time(kind, async () => {
        const response = await user.download(web, url);
        if (response.status !== 200) throw new Error(`${kind}: HTTP ${response.status} ${await response.text()}`);
        return response.text();
      });
      requests++;
      bytesDownloaded += Buffer.byteLength(body);
      const records = csvRecords(body);
      if (records !== expectedLines) throw new Error(`${kind}: ${records} CSV records, expected ${expectedLines}`);
    }

    async function simulate(index: number): Promise<void> {
      // Alternate instances: a user's requests go to both, as behind a load balancer.
      const webs = cluster.webs.map((web) => web.baseUrl);
      const pick = (step: number) => webs[(index + step) % webs.length]!;
      const user = await recorder.time('sign-up', () => signUpOverHttp(pick(0), `load-${index}@askport.test`));
      requests++;
      let chatId: string | null = null;
      for (let step = 0; Date.now() < deadline; step++) {
        const web = pick(step);
        try {
          if (step % 4 !== 3) {
            const question = QUESTIONS[(index + step) % QUESTIONS.length]!;
            const answer = await recorder.time('chat', () => user.say(web, chatId, question));
            requests++;
            chatId = answer.chatId;
            if (answer.payload?.kind !== 'result') throw new Error(`chat "${question}": ${answer.content}`);
            if (step % 4 === 1) {
              // A small export: streamed straight down.
              const exported = await recorder.time('small export start', () =>
                user.say(pick(step + 1), chatId, 'export this as csv'),
              );
              requests++;
              if (exported.payload?.kind !== 'export' || exported.payload.delivery !== 'stream')
                throw new Error(`small export: ${exported.content}`);
              await expectFile(
                user,
                pick(step),
                exported.payload.downloadUrl,
                'small download',
                answer.payload.totalRows + 1,
              );
            }
          } else {
            // A 100,000-row export: a job on a worker, followed through the progress stream of the
            // other instance, then downloaded. Each range is new, so no stored file is reused.
            const first = ((index * 13 + step) % 150) * 1_000;
            const asked = await recorder.time('chat', () =>
              user.say(
                web,
                chatId,
                `SELECT * FROM events WHERE id > ${first} AND id <= ${first + BIG_EXPORT_ROWS} ORDER BY id`,
              ),
            );
            requests++;
            chatId = asked.chatId;
            const exported = await recorder.time('big export start', () => user.say(web, chatId, 'export this as csv'));
            requests++;
            if (exported.payload?.kind !== 'export' || exported.payload.delivery !== 'file')
              throw new Error(`big export: ${exported.content}`);
            const exportId = exported.payload.exportId;
            const final = await recorder.time('big export done', () => user.followProgress(pick(step + 1), exportId));
            requests++;
            if (final.status !== 'succeeded') throw new Error(`big export ${final.status}: ${final.error}`);
            await expectFile(user, pick(step + 1), exported.payload.downloadUrl, 'big download', BIG_EXPORT_ROWS + 1);
          }
        } catch (error) {
          recorder.errors.push(
            `user ${index}, step ${step}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      }
    }

    const started = performance.now();
    await Promise.all(Array.from({ length: USERS }, (_, index) => simulate(index)));
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    cluster.sampleRss();

    const rows: string[] = [];
    rows.push(`| Operation | Count | p50 ms | p95 ms | p99 ms | max ms |`, `|---|---:|---:|---:|---:|---:|`);
    for (const [kind, list] of recorder.samples) {
      const sorted = [...list].sort((a, b) => a - b);
      const cell = (q: number) => Math.round(percentile(sorted, q)).toLocaleString('en-US');
      rows.push(
        `| ${kind} | ${list.length} | ${cell(0.5)} | ${cell(0.95)} | ${cell(0.99)} | ${Math.round(sorted.at(-1)!).toLocaleString('en-US')} |`,
      );
    }
    const processes = [...cluster.webs, ...cluster.workers]
      .map((process) => `${process.name} ${mb(process.peakRss)}`)
      .join(', ');
    console.log(
      [
        `load: ${USERS} users, ${seconds.toFixed(1)} s, ${requests} requests (${(requests / seconds).toFixed(1)}/s), ${mb(bytesDownloaded)} downloaded, ${recorder.errors.length} errors`,
        ...rows,
        `peak RSS: ${processes}`,
        ...recorder.errors.slice(0, 10),
      ].join('\n'),
    );

    expect(recorder.errors).toEqual([]);
    for (const kind of ['sign-up', 'chat', 'small download', 'big export done', 'big download'] as Kind[])
      expect(recorder.samples.get(kind)?.length ?? 0, kind).toBeGreaterThan(0);
    for (const process of [...cluster.webs, ...cluster.workers])
      expect(process.child.exitCode, `${process.name} exited`).toBeNull();
  });
});
