import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowserPage } from './browser';
import { ask, countInDataSource, downloadedText, downloadFrom, screenshot, signUpNewAccount } from './pages';

describe('a new account: export settings and saved queries', () => {
  const app = inject('offlineApp');
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('signs up and lands in an empty chat', async () => {
    await signUpNewAccount(page, app.baseUrl, 'Settings Tester');
    await page.getByText('Hi Settings!').waitFor();
  });

  it('default JSON chosen in the dialog: "export this" downloads JSON without a question', async () => {
    await page.getByRole('button', { name: 'Export settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export settings' });
    await dialog.getByLabel(/^JSON/).check();
    await screenshot(page, 'settings');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await ask(page, 'show products');
    let answer = '';
    const download = await downloadFrom(page, async () => (answer = await ask(page, 'export this')));
    const products = countInDataSource(app.dataDir, 'SELECT count(*) FROM products');
    expect(answer).toBe(`Exporting ${products} rows as JSON — your default format.`);
    expect(JSON.parse(await downloadedText(download))).toHaveLength(products);
  });

  it('saves a query from its result; Run & Export downloads it in the default format', async () => {
    await page.locator('[data-result]').last().getByRole('button', { name: 'Save query' }).click();
    await page.getByLabel('Name for the saved query').fill('Products list');
    await page.getByRole('form', { name: 'Save query' }).getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved as “Products list”.').waitFor();
    const run = page.getByRole('button', { name: 'Run & Export Products list' });
    await run.waitFor();
    const download = await downloadFrom(page, () => run.click());
    const products = countInDataSource(app.dataDir, 'SELECT count(*) FROM products');
    expect(JSON.parse(await downloadedText(download))).toHaveLength(products);
    await page.getByText(`Exporting ${products} rows as JSON — your default format.`).last().waitFor();
    await page.getByRole('link', { name: 'Products list' }).waitFor();
  });
});
