import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Download, Page } from 'playwright-core';

/** Signs in with the demo account shown on the sign-in page and lands on a new chat. */
export async function signInAsDemo(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByRole('button', { name: 'Sign in as the demo user' }).click();
  await page.waitForURL(/\/chat$/);
  await page.getByText('Ask me about your data').waitFor();
}

/** Types a message as a person would and waits for the assistant's answer; returns its text. */
export async function ask(page: Page, text: string): Promise<string> {
  const answers = page.locator('[data-message="assistant"]:not([data-thinking]):not([data-welcome])');
  const before = await answers.count();
  await page.getByLabel('Message').fill(text);
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    (count) =>
      document.querySelectorAll('[data-message="assistant"]:not([data-thinking]):not([data-welcome])').length > count &&
      !document.querySelector('[data-thinking]'),
    before,
  );
  return (await answers.last().locator('[data-message-text]').textContent()) ?? '';
}

/** Runs `action` and returns the download it starts. */
export async function downloadFrom(page: Page, action: () => Promise<unknown>): Promise<Download> {
  const [download] = await Promise.all([page.waitForEvent('download'), action()]);
  return download;
}

export async function downloadedText(download: Download): Promise<string> {
  return readFileSync(await download.path(), 'utf8');
}

export function countInDataSource(dataDir: string, sql: string): number {
  const db = new Database(path.join(dataDir, 'demo.db'), { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
}

const screenshotDir = path.join(process.cwd(), 'data', 'screenshots');
// `UPDATE_SCREENSHOTS=1 npm run test:e2e` refreshes the pictures the README shows.
const readmeScreenshotDir = path.join(process.cwd(), 'tests', 'e2e', 'screenshots');

/** Saves a screenshot under data/screenshots; `readme: false` keeps it out of the README's folder. */
export async function screenshot(page: Page, name: string, options: { readme?: boolean } = {}): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  if (process.env.UPDATE_SCREENSHOTS === '1' && options.readme !== false) {
    mkdirSync(readmeScreenshotDir, { recursive: true });
    copyFileSync(file, path.join(readmeScreenshotDir, `${name}.png`));
  }
}

/** Creates a fresh account through the sign-in page's "Create account" tab. */
export async function signUpNewAccount(page: Page, baseUrl: string, name: string): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(`${name.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}@example.com`);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/chat$/);
}
