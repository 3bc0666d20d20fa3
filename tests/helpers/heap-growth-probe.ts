// Run as a child process by tests/integration/heap-growth.test.ts, with --expose-gc: assembles the
// app's services the way the web server and the worker do, then makes garbage that lands straight in
// the old generation and prints how far that grew past what is live before V8 collected it.
//   node --expose-gc --import tsx tests/helpers/heap-growth-probe.ts [--v8-default-growth]
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { createTestApp } from './databases';

const app = await createTestApp('sqlite', { events: 10 });
// The control: V8's own growth factor, as it was before the services set theirs.
if (process.argv[2] === '--v8-default-growth') setFlagsFromString('--heap-growing-percent=0');
// Live objects like a web server's (Next, Prisma): the growth limit is a multiple of what is live.
const live: string[] = Array.from({ length: 400_000 }, (_, index) => `live object ${index} `.repeat(3));
const oldGeneration = () =>
  getHeapSpaceStatistics()
    .filter((space) => space.space_name === 'old_space' || space.space_name === 'large_object_space')
    .reduce((sum, space) => sum + space.space_used_size, 0);
(globalThis as unknown as { gc: () => void }).gc();
const liveBytes = oldGeneration();
let peak = liveBytes;
// 1.6 MB arrays are large objects, allocated in the old generation and dropped at once: 3.2 GB of
// garbage in all, as an export's promoted rows and buffers are, only faster and without timing.
let garbage: number[] = [];
for (let round = 0; round < 2_000; round++) {
  garbage = new Array<number>(200_000).fill(round);
  peak = Math.max(peak, oldGeneration());
}
console.log(
  JSON.stringify({
    liveMb: liveBytes / 2 ** 20,
    peakMb: peak / 2 ** 20,
    peakOverLive: peak / liveBytes,
    kept: live.length + garbage.length,
  }),
);
await app.close();
