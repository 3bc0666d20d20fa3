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
    await expect(page.locator('[data-result-count]').first().textContent()).resolves.toBe(
      `${orders.toLocaleString('en-US')} rows · showing the first 100`,
    );
    await expect(table.locator('tbody tr').count()).resolves.toBe(100);
    await expect(table.locator('thead th').allTextContents()).resolves.toEqual([
      'id',
      'customer_id',
      'ordered_at',
      'status',
      'total',
      'note',
    ]);
    await screenshot(page, 'chat');
  });

  it('moves through the result with the arrow keys and copies the focused cell', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    const table = page.getByRole('region', { name: 'Result of query 1' });
    await table.locator('tbody td').first().click();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    // Row 3, customer_id: what the cell shows is what the clipboard holds.
    const cell = table.locator('tbody tr').nth(2).locator('td').nth(1);
    await expect(cell.evaluate((element) => element === document.activeElement)).resolves.toBe(true);
    const shown = (await cell.textContent())!;
    await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'Copied' }).textContent()).resolves.toBe(
      `Copied “${shown}” from customer_id, row 3.`,
    );
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(shown);
    // Only the focused cell is in the tab order.
    await expect(table.locator('td[tabindex="0"]').count()).resolves.toBe(1);
  });

  it('shows 1,000 rows on request, rendering only those in view, and keeps the keyboard working', async () => {
    const table = page.getByRole('region', { name: 'Result of query 1' });
    await page.getByRole('button', { name: 'Show 1,000 rows' }).click();
    const orders = countInDataSource('SELECT count(*) FROM orders');
    await page
      .locator('[data-result-count]')
      .first()
      .filter({ hasText: `${orders.toLocaleString('en-US')} rows · showing the first 1,000` })
      .waitFor();
    const rendered = await table.locator('tbody tr:not([data-spacer])').count();
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(200);
    console.log(`1,000-row preview: ${rendered} rows in the page at a time`);
    await expect(table.getByRole('grid').getAttribute('aria-rowcount')).resolves.toBe('1001');
    // Scrolling to the end brings the last rows in.
    await table.evaluate((element) => (element.scrollTop = element.scrollHeight));
    await table.locator('td[data-cell="999:0"]').waitFor();
    await expect(table.locator('td[data-cell="999:0"]').textContent()).resolves.toBe('1000');
    // The active cell (near the top) is no longer in the page; Tab still has one cell to land on.
    await expect(table.locator('td[tabindex="0"]').count()).resolves.toBe(1);
    // Ctrl+Home from there goes back to the first cell, which is rendered again and focused.
    await table.locator('td[data-cell="999:0"]').click();
    await page.keyboard.press('Control+Home');
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-cell') === '0:0');
  });

  it('moves between export chips with the arrow keys', async () => {
    const group = page.getByRole('group', { name: 'Export this result' }).first();
    await group.getByRole('link', { name: /as CSV/ }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('JSON');
    await page.keyboard.press('End');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Excel');
    await page.keyboard.press('ArrowRight');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('CSV');
  });

  it('downloads the whole result as CSV from the chip: same header and row count as the data source', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .getByRole('link', { name: /as CSV/ })
        .first()
        .click(),
    ]);
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
  it("explains a query the database cannot run, in the database's words", async () => {
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
