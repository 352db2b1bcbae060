import type { Browser, Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module.js';
import { fakeAnswerWords } from '../../sample/fake-model.js';
import { platforms, useApp } from '../support/app.js';
import { describeChromium, launchChromium } from '../support/browser.js';

// The sample's "Ask the model" panel in a real headless Chromium: a resumable answer that survives
// a reload, shows live in a second tab, and stops from the stop button.

// Functions passed to page.waitForFunction run in the page; the project compiles without the DOM lib.
declare const document: { getElementById(id: string): { textContent: string | null; dataset: Record<string, string> } | null };

const TIMEOUT = 90_000;
const QUESTION = 'why is the sky blue?';
const WHOLE = fakeAnswerWords(QUESTION).join(' ');

const answerText = (page: Page) => page.locator('#answer-text').textContent();

/** Waits until the page shows at least `count` words of the answer. */
const untilWords = (page: Page, count: number) =>
  page.waitForFunction((n) => (document.getElementById('answer-text')?.textContent ?? '').split(' ').filter(Boolean).length >= n, count);

async function ask(page: Page): Promise<void> {
  await page.fill('#answer-question', QUESTION);
  await page.click('#answer-form button[type="submit"]');
}

describeChromium('sample: a resumable answer in a browser', (chromiumPath) => {
  describe.each(platforms)('$name', (platform) => {
    let browser: Browser;
    const wordMs = process.env.SAMPLE_WORD_MS;
    beforeAll(async () => {
      // Fast enough for a test, slow enough that a reload lands mid-answer (well over a second in all).
      process.env.SAMPLE_WORD_MS = '60';
      browser = await launchChromium(chromiumPath);
    }, TIMEOUT);
    afterAll(async () => {
      await browser?.close();
      if (wordMs === undefined) delete process.env.SAMPLE_WORD_MS;
      else process.env.SAMPLE_WORD_MS = wordMs;
    });
    // The browser's connections are not a pool's: no wait for none after each test.
    const t = useApp(platform, () => ({ imports: [AppModule] }), { settle: false });

    it('the answer survives a page reload (shown whole, once), and a second tab shows it live', async () => {
      const context = await browser.newContext();
      const errors: string[] = [];
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(30_000);
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${t.url}/`);
        await ask(page);
        await untilWords(page, 3);
        const streamId = await page.locator('#answer-id').textContent();
        expect(streamId).toMatch(/^[A-Za-z0-9_-]{22}$/);

        // A second tab of the same browser follows the answer by its id, while it still streams.
        const second = await context.newPage();
        second.setDefaultTimeout(30_000);
        second.on('pageerror', (error) => errors.push(error.message));
        await second.goto(`${t.url}/`);
        await untilWords(second, 1);
        expect(await second.locator('#answer-id').textContent()).toBe(streamId);
        expect(await second.locator('#answer-panel').getAttribute('data-state')).toBe('streaming');
        expect(WHOLE.startsWith((await answerText(second))!)).toBe(true);

        // Reloaded mid-answer: the page follows by id and shows the whole answer once.
        await page.reload();
        expect(await page.locator('#answer-id').textContent()).not.toBe('–');
        await page.waitForSelector('#answer-panel[data-state="done"]');
        expect(await answerText(page)).toBe(WHOLE);
        await second.waitForSelector('#answer-panel[data-state="done"]');
        expect(await answerText(second)).toBe(WHOLE);
        expect(await page.locator('#answer-id').textContent()).toBe(streamId);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    }, TIMEOUT);

    it('the stop button stops the answer for every tab', async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(30_000);
        await page.goto(`${t.url}/`);
        await ask(page);
        await untilWords(page, 2);
        const second = await context.newPage();
        second.setDefaultTimeout(30_000);
        await second.goto(`${t.url}/`);
        await untilWords(second, 1);
        await page.click('#answer-stop');
        await page.waitForSelector('#answer-panel[data-state="stopped"]');
        await second.waitForSelector('#answer-panel[data-state="stopped"]');
        const shown = (await answerText(page))!;
        expect(shown.length).toBeLessThan(WHOLE.length);
        expect(WHOLE.startsWith(shown)).toBe(true);
        expect(await answerText(second)).toBe(shown);
      } finally {
        await context.close();
      }
    }, TIMEOUT);
  });
});
