import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowserPage } from './browser';
import { ask, downloadFrom, screenshot, signUpNewAccount } from './pages';

// Every main screen, on a desktop and a phone, in light and dark: axe-core finds no serious or
// critical WCAG 2.1 AA violation, and each variant is photographed (data/screenshots; the README's
// come from `UPDATE_SCREENSHOTS=1`).
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 360, height: 740 } } as const;
const SCHEMES = ['light', 'dark'] as const;
/** The variants the README shows; every variant is saved under data/screenshots. */
const README_SHOTS = new Set([
  'chat-desktop-dark',
  'chat-phone-light',
  'chat-phone-dark',
  'welcome-phone-dark',
  'history-desktop-dark',
]);

interface Finding {
  screen: string;
  variant: string;
  rule: string;
  impact: string;
  targets: string[];
}

describe('accessibility and screenshots of every page', () => {
  const app = inject('offlineApp');
  let browser: Browser;
  let page: Page;
  const findings: Finding[] = [];
  let checks = 0;
  beforeAll(async () => {
    ({ browser, page } = await openBrowserPage());
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Axe in each of the four variants of what the page shows now; screenshots of each. */
  async function checkScreen(screen: string, ready: () => Promise<unknown>): Promise<void> {
    for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
      for (const scheme of SCHEMES) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        await ready();
        // Next streams a dynamic page's metadata after its body: the title can land a moment after the content.
        await page.waitForFunction(() => document.title.length > 0);
        const variant = `${viewportName}-${scheme}`;
        // Nothing may make the page scroll sideways, down to a 360 px phone.
        expect(
          await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
          `${screen} ${variant} scrolls sideways`,
        ).toBeLessThanOrEqual(0);
        const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
        checks++;
        for (const violation of result.violations) {
          if (violation.impact !== 'serious' && violation.impact !== 'critical') continue;
          findings.push({
            screen,
            variant,
            rule: violation.id,
            impact: violation.impact,
            targets: violation.nodes.map((node) => node.target.join(' ')),
          });
        }
        await screenshot(page, `${screen}-${variant}`, { readme: README_SHOTS.has(`${screen}-${variant}`) });
      }
    }
    await page.setViewportSize(VIEWPORTS.desktop);
    await page.emulateMedia({ colorScheme: 'light' });
  }

  it('sign-in page', async () => {
    await page.goto(`${app.baseUrl}/sign-in`);
    await checkScreen('sign-in', () => page.getByRole('button', { name: 'Sign in as the demo user' }).waitFor());
    expect(findings.filter((finding) => finding.screen === 'sign-in')).toEqual([]);
  });

  it('first-run welcome in an empty chat', async () => {
    await signUpNewAccount(page, app.baseUrl, 'Axe Tester');
    await checkScreen('welcome', () => page.getByText('Ask me about your data').waitFor());
    expect(findings.filter((finding) => finding.screen === 'welcome')).toEqual([]);
    // The chat route's first-load JavaScript, as a fresh tab of this signed-in user downloads it.
    const fresh = await page.context().newPage();
    await fresh.goto(`${app.baseUrl}/chat`);
    await fresh.getByText('Ask me about your data').waitFor();
    const scripts = await fresh.evaluate(() =>
      (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .filter((entry) => entry.initiatorType === 'script' || entry.name.endsWith('.js'))
        .map((entry) => ({ transferred: entry.encodedBodySize, decoded: entry.decodedBodySize })),
    );
    await fresh.close();
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
    const transferred = scripts.reduce((sum, entry) => sum + entry.transferred, 0);
    const decoded = scripts.reduce((sum, entry) => sum + entry.decoded, 0);
    console.log(
      `first-load JS of /chat: ${scripts.length} files, ${kb(transferred)} transferred (compressed), ${kb(decoded)} uncompressed`,
    );
    expect(scripts.length).toBeGreaterThan(0);
  });

  it('a result table in the chat', async () => {
    await ask(page, 'show orders');
    await checkScreen('chat', () => page.getByRole('region', { name: 'Result of query 1' }).waitFor());
    expect(findings.filter((finding) => finding.screen === 'chat')).toEqual([]);
  });

  it('a question with format chips', async () => {
    await ask(page, 'export this');
    await checkScreen('export-choice', () => page.getByRole('button', { name: 'JSON' }).last().waitFor());
    expect(findings.filter((finding) => finding.screen === 'export-choice')).toEqual([]);
  });

  it('the export settings dialog', async () => {
    await page.getByRole('button', { name: 'Export settings' }).click();
    await checkScreen('settings', () => page.getByRole('dialog').waitFor());
    expect(findings.filter((finding) => finding.screen === 'settings')).toEqual([]);
    await page.keyboard.press('Escape');
  });

  it('export history', async () => {
    // One export first, so the history has a row: the format question's first chip (CSV).
    await downloadFrom(page, () =>
      page.getByRole('group', { name: 'Choose one' }).last().getByRole('button').first().click(),
    );
    await page.goto(`${app.baseUrl}/history`);
    await page.locator('tbody tr td').filter({ hasText: 'Succeeded' }).first().waitFor();
    await checkScreen('history', () => page.getByRole('heading', { name: 'Exports', level: 1 }).waitFor());
    expect(findings.filter((finding) => finding.screen === 'history')).toEqual([]);
  });

  // The check itself can fail: a planted unlabelled control and unreadable text are found.
  it('finds violations when there are some', async () => {
    await page.evaluate(() => {
      const planted = document.createElement('div');
      planted.innerHTML =
        '<input type="text" id="planted-input"><p style="color:#f6f7f9;background:#ffffff">faint text</p>';
      document.body.append(planted);
    });
    const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(result.violations.map((violation) => violation.id)).toEqual(
      expect.arrayContaining(['label', 'color-contrast']),
    );
    await page.reload();
  });

  it('a page that does not exist', async () => {
    await page.goto(`${app.baseUrl}/no-such-page`);
    await checkScreen('not-found', () => page.getByRole('heading').first().waitFor());
    expect(findings.filter((finding) => finding.screen === 'not-found')).toEqual([]);
    console.log(
      `axe-core: ${checks} checks (7 screens × desktop/phone × light/dark), ${findings.length} serious or critical violations`,
    );
  });
});
