import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPattern } from '../sources/test-pattern.js';
import { createServer } from '../stream-server.js';
import { launchChromium } from '../testing/chromium.js';

describe('viewer page in Chromium', () => {
  test('GET / shows a live picture that keeps changing, with resolution and fps', async (t) => {
    const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 15 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const { browser, close } = await launchChromium();
    t.after(close);
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 15_000 });
    const grab = () => page.locator('#video').screenshot();
    const first = await grab();
    const seen = new Set<string>([first.toString('base64')]);
    // Two seconds of screenshots: the moving block and clock make every frame differ.
    for (let i = 0; i < 8; i++) {
      await page.waitForTimeout(250);
      seen.add((await grab()).toString('base64'));
    }
    assert.ok(seen.size >= 3, `the picture changed ${seen.size - 1} times in 2 s`);
    const natural = await page.evaluate(() => {
      const img = document.getElementById('video') as HTMLImageElement;
      return [img.naturalWidth, img.naturalHeight];
    });
    assert.deepEqual(natural, [320, 240]);
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /^[1-9][\d.]* fps/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 10_000 });
    assert.equal(await page.textContent('#resolution'), '320×240');
  });

  test('the page falls back to polling snapshots when asked (?mode=poll) and the picture changes', async (t) => {
    const server = createServer({ source: testPattern({ width: 160, height: 120, fps: 10 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const { browser, close } = await launchChromium();
    t.after(close);
    const page = await browser.newPage();
    await page.goto(`${url}?mode=poll`);
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).src.startsWith('blob:'), undefined, { timeout: 15_000 });
    const a = await page.evaluate(() => (document.getElementById('video') as HTMLImageElement).src);
    await page.waitForFunction((prev) => (document.getElementById('video') as HTMLImageElement).src !== prev, a, { timeout: 5000 });
    const streams = server.routes.stream.viewerCount;
    assert.equal(streams, 0, 'polling opens no multipart stream');
    await page.waitForFunction(() => /polling/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 5000 });
  });
});
