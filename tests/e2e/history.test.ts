import { readFileSync } from 'node:fs';
import JSZip from 'jszip';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowserPage } from './browser';
import { ask, countInDataSource, downloadFrom, screenshot, signUpNewAccount } from './pages';

describe('export history and batch export', () => {
  const app = inject('offlineApp');
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
    await signUpNewAccount(page, app.baseUrl, 'History Tester');
    for (const text of ['show orders', 'show products', 'show customers']) await ask(page, text);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('three queries selected in history download as one ZIP whose manifest counts match', async () => {
    await page.getByRole('link', { name: 'Export history' }).click();
    await page.waitForURL(/\/history$/);
    // One chat's queries, then all of them.
    await page
      .locator('select[aria-label="Queries from"] option', { hasText: 'show orders' })
      .waitFor({ state: 'attached' });
    await page.getByLabel('Queries from').selectOption({ label: 'show orders' });
    await page.getByRole('checkbox', { name: /^customers / }).waitFor();
    await page.getByLabel('Queries from').selectOption({ label: 'All chats' });
    await page.getByRole('checkbox', { name: /^customers / }).waitFor();
    for (const title of ['orders', 'products', 'customers'])
      await page.getByRole('checkbox', { name: new RegExp(`^${title} `) }).check();
    await page.getByLabel('Format for the ZIP').selectOption('csv');
    const download = await downloadFrom(page, () =>
      page.getByRole('button', { name: 'Export selected as ZIP' }).click(),
    );
    const zip = await JSZip.loadAsync(readFileSync(await download.path()));
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as {
      files: Array<{ file: string; rows: number }>;
    };
    const expected = Object.fromEntries(
      ['orders', 'products', 'customers'].map((table) => [
        `${table}.csv`,
        countInDataSource(app.dataDir, `SELECT count(*) FROM ${table}`),
      ]),
    );
    expect(Object.fromEntries(manifest.files.map((file) => [file.file, file.rows]))).toEqual(expected);
    expect(Object.keys(zip.files).sort()).toEqual(['customers.csv', 'manifest.json', 'orders.csv', 'products.csv']);
  });

  it('shows the export and filters by format and status', async () => {
    await page.reload();
    const rows = page.locator('[data-history-table] tbody tr');
    await rows.first().waitFor();
    await expect(rows.first().textContent()).resolves.toContain('3 queries: orders, products, customers');
    await page.getByLabel('Filter by format').selectOption('json');
    await page.getByText('No exports match.').waitFor();
    await page.getByLabel('Filter by format').selectOption('csv');
    await page.getByLabel('Filter by status').selectOption('succeeded');
    await rows.first().waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await screenshot(page, 'history');
  });
});
