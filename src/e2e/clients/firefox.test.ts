import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { watchPicture } from '../../testing/browser-checks.js';
import { until } from '../../testing/fake-source.js';
import { launchFirefox } from '../../testing/firefox.js';

// One Firefox for the file (it takes seconds to start); each test has its own server and tabs.
let firefox: { browser: Browser; close: () => Promise<void> } | undefined;

async function start(t: TestContext) {
  const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 15 }), host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  const { url } = await server.listen();
  const browser = firefox!.browser;
  const pages: Page[] = [];
  const newPage = async () => {
    const page = await browser.newPage();
    pages.push(page);
    return page;
  };
  t.after(() => Promise.all(pages.map((p) => p.close().catch(() => {}))));
  return { server, url, newPage };
}

// waitForFunction polls on animation frames by default, which a hidden tab does not get.
const POLL = { polling: 100, timeout: 10_000 } as const;

const pictureShown = () => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0;
const text = (page: Page, id: string) => page.evaluate((i) => document.getElementById(i)!.textContent, id);

describe('viewer page in Firefox ESR (WebDriver BiDi)', () => {
  before(async () => {
    firefox = await launchFirefox();
  });
  after(() => firefox?.close());

  test('GET / shows a picture that keeps changing for three seconds, with state, resolution and fps', async (t) => {
    const { url, newPage } = await start(t);
    const page = await newPage();
    await page.goto(url);
    await page.waitForFunction(pictureShown, { ...POLL, timeout: 15_000 });
    const video = (await page.$('#video'))!;
    const report = await watchPicture(() => video.screenshot());
    assert.ok(report.repeats <= 1 && report.distinct >= report.shots - 1, `the picture stood still: ${JSON.stringify(report)}`);
    assert.deepEqual(await page.evaluate(() => {
      const img = document.getElementById('video') as HTMLImageElement;
      return [img.naturalWidth, img.naturalHeight];
    }), [320, 240]);
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', POLL);
    await page.waitForFunction(() => /^[1-9][\d.]* fps$/.test(document.getElementById('fps')!.textContent ?? ''), POLL);
    assert.equal(await text(page, 'resolution'), '320×240');
  });

  test('a hidden tab closes its stream and a shown tab opens it again', async (t) => {
    const { server, url, newPage } = await start(t);
    const page = await newPage();
    await page.goto(url);
    await page.waitForFunction(pictureShown, { ...POLL, timeout: 15_000 });
    await until(() => server.live.viewerCount === 1, 'the page streaming');

    // Another tab in front hides this one, as when a person switches tabs.
    const other = await newPage();
    await other.bringToFront();
    await until(() => server.live.viewerCount === 0, 'the hidden tab to close its stream', 10_000);
    assert.equal(await page.evaluate(() => document.hidden), true);
    assert.equal(await text(page, 'state'), 'paused');

    await page.bringToFront();
    await until(() => server.live.viewerCount === 1, 'the shown tab to stream again', 10_000);
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', POLL);
    const video = (await page.$('#video'))!;
    const report = await watchPicture(() => video.screenshot(), 1000);
    assert.ok(report.distinct >= 2, `the picture moves again: ${JSON.stringify(report)}`);
  });

  test('a hidden tab stops polling snapshots too (?mode=poll) and resumes when shown', async (t) => {
    const { server, url, newPage } = await start(t);
    const page = await newPage();
    await page.goto(`${url}?mode=poll`);
    const src = () => page.evaluate(() => (document.getElementById('video') as HTMLImageElement).src);
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).src.startsWith('blob:'), { ...POLL, timeout: 15_000 });
    const other = await newPage();
    await other.bringToFront();
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'paused', POLL);
    // Let any snapshot request in flight land, then watch: a hidden page fetches nothing.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const hiddenSrc = await src();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await src(), hiddenSrc, 'no new snapshot while hidden');
    assert.equal(server.live.viewerCount, 0, 'polling opens no stream');

    await page.bringToFront();
    await page.waitForFunction((prev) => (document.getElementById('video') as HTMLImageElement).src !== prev, POLL, hiddenSrc);
  });
});
