import { chromium, type Browser, type Page } from 'playwright-core';

// Debian's Chromium; browsers cannot be downloaded on these machines. Playwright gives each launch a
// fresh temporary profile.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A browser with one desktop-sized page that accepts downloads: how every journey starts. */
export async function openBrowserPage(): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const page = await (
    await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } })
  ).newPage();
  return { browser, page };
}
