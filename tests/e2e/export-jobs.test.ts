import { statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatBytes } from '@/lib/export-progress';
import { openBrowserPage } from './browser';
import { ask, countInDataSource, downloadedText, downloadFrom, screenshot, signInAsDemo } from './pages';

// Results above 10,000 rows export as jobs: progress in the chat, then the file downloads.
describe('a large export', () => {
  const app = inject('offlineApp');
  let browser: Browser;
  let page: Page;
  let events: number;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
    events = countInDataSource(app.dataDir, 'SELECT count(*) FROM events');
    expect(events).toBeGreaterThan(10_000);
    await signInAsDemo(page, app.baseUrl);
    await ask(page, 'SELECT * FROM events ORDER BY id');
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('asked for in words: shows progress, then downloads the whole file', async () => {
    let answer = '';
    const download = await downloadFrom(page, async () => (answer = await ask(page, 'export this as csv')));
    expect(answer).toBe(
      `Preparing ${events.toLocaleString('en-US')} rows as CSV — opens in any spreadsheet. It downloads when ready and stays available for an hour.`,
    );
    const records = parse(await downloadedText(download), { columns: true, record_delimiter: '\r\n' });
    expect(records).toHaveLength(events);
    const ready = page
      .getByText(`Ready: ${events.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} rows`)
      .first();
    await ready.waitFor();
    // The card says the file's size, as the history does, and how long it stays.
    const bytes = statSync(await download.path()).size;
    await expect(ready.textContent()).resolves.toMatch(
      new RegExp(` · ${formatBytes(bytes).replace('.', '\\.')} · available for (59|60) more min$`),
    );
    await screenshot(page, 'export-job');
  });

  it('from a chip under the result: the chip starts the job and the JSON file downloads', async () => {
    const chip = page
      .locator('[data-result]')
      .last()
      .getByRole('button', { name: /as JSON/ });
    const download = await downloadFrom(page, () => chip.click());
    expect(JSON.parse(await downloadedText(download))).toHaveLength(events);
  });

  it('finished in another tab: this tab shows a toast with the download', async () => {
    const other = await page.context().newPage();
    await other.goto(`${app.baseUrl}/chat`);
    await ask(other, 'SELECT id, type FROM events ORDER BY id');
    await ask(other, 'export this as csv');
    const toast = page
      .locator('[data-toast]')
      .filter({ hasText: `Your CSV export “events” is ready: ${events.toLocaleString('en-US')} rows.` });
    await toast.waitFor({ timeout: 30_000 });
    const download = await downloadFrom(page, () => toast.getByRole('link', { name: 'Download' }).click());
    const records = parse(await downloadedText(download), { columns: true, record_delimiter: '\r\n' });
    expect(records).toHaveLength(events);
    expect(Object.keys(records[0] as object)).toEqual(['id', 'type']);
    // Downloading dismisses it; the job's own tab has its card, not a toast.
    await toast.waitFor({ state: 'detached' });
    await expect(other.locator('[data-toast]').count()).resolves.toBe(0);
    await other.close();
  });
});
