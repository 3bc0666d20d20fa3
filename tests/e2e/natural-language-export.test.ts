import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowserPage } from './browser';
import { ask, countInDataSource, downloadedText, downloadFrom, screenshot, signInAsDemo } from './pages';

// The same journeys in offline mode (fallback parser) and with a local server standing in for OpenAI.
describe.each([
  ['offline mode', inject('offlineApp')],
  ['the OpenAI path', inject('modelApp')],
] as const)('exports by asking, in %s', (mode, app) => {
  let browser: Browser;
  let page: Page;
  let orders: number;
  let products: number;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
    orders = countInDataSource(app.dataDir, 'SELECT count(*) FROM orders');
    products = countInDataSource(app.dataDir, 'SELECT count(*) FROM products');
    await signInAsDemo(page, app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows whether the assistant is offline', async () => {
    // The starter chips come with the same answer as the mode: once they show, the badge is decided.
    await page.getByRole('button', { name: 'show customers' }).waitFor();
    await expect(page.getByText('Offline mode', { exact: true }).isVisible()).resolves.toBe(mode === 'offline mode');
  });

  it('"export this as spreadsheet" after a query downloads a CSV with every row', async () => {
    await ask(page, 'show orders');
    let answer = '';
    const download = await downloadFrom(page, async () => (answer = await ask(page, 'export this as spreadsheet')));
    expect(answer).toBe(`Exporting ${orders.toLocaleString('en-US')} rows as CSV — opens in any spreadsheet.`);
    expect(download.suggestedFilename()).toMatch(/^orders-.*\.csv$/);
    const records = parse(await downloadedText(download), { columns: true, record_delimiter: '\r\n' });
    expect(records).toHaveLength(orders);
  });

  it('"export this" asks with chips; clicking JSON downloads valid JSON with the same rows', async () => {
    await ask(page, 'show products');
    expect(await ask(page, 'export this')).toBe('Which format would you like?');
    const chips = page.locator('[data-message="assistant"]').last().getByRole('button');
    await expect(chips.allTextContents()).resolves.toEqual(['CSV', 'JSON', 'Excel']);
    if (mode === 'offline mode') await screenshot(page, 'export-choice');
    const download = await downloadFrom(page, () => chips.filter({ hasText: 'JSON' }).click());
    const rows = JSON.parse(await downloadedText(download)) as unknown[];
    expect(rows).toHaveLength(products);
    await page.getByText(`Exporting ${products} rows as JSON — for code and APIs.`).waitFor();
  });

  it('"always use json", then "export it" downloads JSON without a question', async () => {
    expect(await ask(page, 'always use json')).toBe(
      'Done: from now on, "export this" gives JSON unless you ask for another format.',
    );
    await ask(page, 'show orders');
    let answer = '';
    const download = await downloadFrom(page, async () => (answer = await ask(page, 'export it')));
    expect(answer).toBe(`Exporting ${orders.toLocaleString('en-US')} rows as JSON — your default format.`);
    expect(JSON.parse(await downloadedText(download))).toHaveLength(orders);
  });

  it('a suggested chip under a result downloads at once', async () => {
    const download = await downloadFrom(page, () =>
      page
        .getByRole('link', { name: /as CSV/ })
        .last()
        .click(),
    );
    const records = parse(await downloadedText(download), { columns: true, record_delimiter: '\r\n' });
    expect(records).toHaveLength(orders);
  });
});

describe('the OpenAI path in the browser', () => {
  const app = inject('modelApp');
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
    await signInAsDemo(page, app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a clarification comes with options; clicking one sends it as the next message', async () => {
    const customers = countInDataSource(app.dataDir, 'SELECT count(*) FROM customers');
    expect(await ask(page, 'show me the stuff')).toBe('Which table do you mean?');
    const options = page.locator('[data-message="assistant"]').last().getByRole('button');
    await expect(options.allTextContents()).resolves.toEqual(['show customers', 'show events', 'show order_items']);
    await options.filter({ hasText: 'show customers' }).click();
    await page.locator('[data-message="user"]').last().getByText('show customers').waitFor();
    await page
      .getByText(`${customers.toLocaleString('en-US')} rows. Showing the first 100.`)
      .last()
      .waitFor();
    // Which path answered, and what it cost, is shown under the answer.
    await expect(
      page
        .locator('[data-message="assistant"]')
        .last()
        .getByText(/^Model · 2 calls/)
        .count(),
    ).resolves.toBe(1);
  });
});
