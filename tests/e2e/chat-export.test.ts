import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowserPage } from './browser';
import { countInDataSource as count, screenshot } from './pages';

const { baseUrl, dataDir } = inject('offlineApp');
const countInDataSource = (sql: string) => count(dataDir, sql);
describe('a new user of the embedded default', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('is sent to a sign-in page that shows the demo account, and a wrong password is refused in words', async () => {
    await page.goto(baseUrl);
    await page.waitForURL(/\/sign-in$/);
    await expect(page.getByText('demo@askport.dev').isVisible()).resolves.toBe(true);
    await page.getByLabel('Email').fill('demo@askport.dev');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const error = page.locator('.form-error[role="alert"]');
    await error.waitFor();
    await expect(error.textContent()).resolves.toBe('That email and password do not match an account.');
    expect(page.url()).toMatch(/\/sign-in$/);
    await screenshot(page, 'sign-in');
  });

  it('signs in as the demo user, runs "show orders" and sees the table with the total count', async () => {
    await page.getByRole('button', { name: 'Sign in as the demo user' }).click();
    await page.waitForURL(/\/chat$/);
    await page.getByText('Ask me about your data').waitFor();
    await page.getByLabel('Message').fill('show orders');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/chat\/[\w-]+$/);
    const table = page.getByRole('region', { name: 'Result of query 1' });
    await table.waitFor();
    const orders = countInDataSource('SELECT count(*) FROM orders');
    await expect(page.locator('.result-count').first().textContent()).resolves.toBe(`${orders.toLocaleString('en-US')} rows · showing the first 100`);
    await expect(table.locator('tbody tr').count()).resolves.toBe(100);
    await expect(table.locator('thead th').allTextContents()).resolves.toEqual(['id', 'customer_id', 'ordered_at', 'status', 'total', 'note']);
    await screenshot(page, 'chat');
  });

  it('downloads the whole result as CSV from the chip: same header and row count as the data source', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /as CSV/ }).first().click()]);
    expect(download.suggestedFilename()).toMatch(/^orders-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.csv$/);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    const [header, ...records] = parse(text, { record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(['id', 'customer_id', 'ordered_at', 'status', 'total', 'note']);
    expect(records).toHaveLength(countInDataSource('SELECT count(*) FROM orders'));
  });

  it('explains a refused statement in the thread', async () => {
    await page.getByLabel('Message').fill('DELETE FROM orders');
    await page.keyboard.press('Enter');
    await page.getByText('Only read-only SELECT or WITH queries can run here; this is a DELETE statement.').waitFor();
  });

  // In the production build the error comes from another bundled copy of the data source module.
  it('explains a query the database cannot run, in the database\'s words', async () => {
    await page.getByLabel('Message').fill('SELECT no_such_column FROM orders');
    await page.keyboard.press('Enter');
    await page.getByText('The database could not run that query: no such column: no_such_column').waitFor();
  });

  it('lays out on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('region', { name: 'Result of query 1' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'chat-phone');
  });
});
