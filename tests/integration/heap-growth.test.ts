import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT } from '@/server/heap';

function probe(...args: string[]): { liveMb: number; peakMb: number; peakOverLive: number } {
  const result = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'tests/helpers/heap-growth-probe.ts', ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

// Exports make garbage at 10 MB/s; left to V8's own factor (up to 4× what is live) it let a
// million-row XLSX export peak at 250 MB server RSS. The services limit the growth (server/heap.ts).
describe('the heap of a process that runs exports', () => {
  it(`is collected before the old generation grows much past ${HEAP_GROWING_PERCENT}% over what is live`, () => {
    const limited = probe();
    const v8Default = probe('--v8-default-growth');
    // 1.5× live, plus what incremental marking lets through while it runs.
    expect(limited.peakOverLive).toBeLessThan(2.2);
    // The control shows the probe can tell: without the limit the garbage piles up much higher.
    expect(v8Default.peakOverLive).toBeGreaterThan(limited.peakOverLive + 1);
  });
});
