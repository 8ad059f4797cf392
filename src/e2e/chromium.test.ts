import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { testPattern } from '../sources/test-pattern.js';
import { createServer } from '../stream-server.js';
import { watchPicture } from '../testing/browser-checks.js';
import { launchChromium } from '../testing/chromium.js';

// One Chromium for the file (it takes a second or two to start); each test has its own page.
let chromium: { browser: BrowserContext; close: () => Promise<void> } | undefined;

async function open(t: TestContext, path: string, fps: number, size: [number, number], options: { token?: string } = {}) {
  const server = createServer({ source: testPattern({ width: size[0], height: size[1], fps }), host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const { url } = await server.listen();
  const page: Page = await chromium!.browser.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.goto(url + path);
  return { server, page };
}

describe('viewer page in Chromium', () => {
  before(async () => {
    chromium = await launchChromium();
  });
  after(() => chromium?.close());

  test('GET / shows a picture that keeps changing for three seconds, with resolution and fps', async (t) => {
    const { server, page } = await open(t, '', 15, [320, 240]);
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
    // The moving block and the clock make every frame differ.
    const report = await watchPicture(() => page.locator('#video').screenshot());
    assert.ok(report.repeats <= 1 && report.distinct >= report.shots - 1, `the picture stood still: ${JSON.stringify(report)}`);
    const natural = await page.evaluate(() => {
      const img = document.getElementById('video') as HTMLImageElement;
      return [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(natural, [320, 240]);
    assert.equal(server.live.viewerCount, 1, 'the page reads one multipart stream');
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /^[1-9][\d.]* fps$/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 10_000 });
    assert.equal(await page.textContent('#resolution'), '320×240');
  });

  test('the page falls back to polling snapshots when asked (?mode=poll) and the picture changes', async (t) => {
    const { server, page } = await open(t, '?mode=poll', 10, [160, 120]);
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).src.startsWith('blob:'), undefined, { timeout: 15_000 });
    const a = await page.evaluate(() => (document.getElementById('video') as HTMLImageElement).src);
    await page.waitForFunction((prev) => (document.getElementById('video') as HTMLImageElement).src !== prev, a, { timeout: 5000 });
    assert.equal(server.live.viewerCount, 0, 'polling opens no multipart stream');
    const report = await watchPicture(() => page.locator('#video').screenshot(), 1500, 300);
    assert.ok(report.distinct >= 3, `the polled picture changes: ${JSON.stringify(report)}`);
    await page.waitForFunction(() => /polling/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 5000 });
  });

  test('opened as /?token=..., the page passes the token on to its stream, status and snapshot', async (t) => {
    const { server, page } = await open(t, '?token=page-token-123', 15, [160, 120], { token: 'page-token-123' });
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', undefined, { timeout: 10_000 });
    assert.equal(server.live.viewerCount, 1);
    const href = await page.getAttribute('#snapshot', 'href');
    assert.equal(href, 'snapshot.jpg?token=page-token-123');
    const snapshot = await page.evaluate(async (h) => (await fetch(h!)).status, href);
    assert.equal(snapshot, 200);
  });
});
