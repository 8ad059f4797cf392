import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { testPattern } from '../../sources/test-pattern.js';
import type { Source } from '../../sources/source.js';
import { createServer, type StreamServer } from '../../stream-server.js';
import { launchChromium } from '../../testing/chromium.js';
import { delay, FakeSource, until } from '../../testing/fake-source.js';

let chromium: { browser: BrowserContext; close: () => Promise<void> } | undefined;

async function serve(t: TestContext, source: Source, options: { port?: number; restartDelaysMs?: number[]; stallTimeoutMs?: number } = {}): Promise<{ server: StreamServer; url: string; port: number }> {
  const server = createServer({ source, host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const { url, port } = await server.listen();
  return { server, url, port };
}

async function newPage(t: TestContext): Promise<Page> {
  const page = await chromium!.browser.newPage();
  t.after(() => page.close().catch(() => {}));
  return page;
}

const stateIs = (page: Page, state: string) =>
  page.waitForFunction((s) => document.getElementById('state')!.textContent === s, state, { timeout: 15_000 });

describe('viewer page behaviour in Chromium', () => {
  before(async () => {
    chromium = await launchChromium();
  });
  after(() => chromium?.close());

  test('when <img> shows no multipart picture (as in some Safari versions) the page switches to polling by itself', async (t) => {
    const { server, url } = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }));
    const page = await newPage(t);
    // Stand-in for such a browser: the stream arrives but the image reports no picture.
    await page.addInitScript(() => {
      const natural = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'naturalWidth')!;
      Object.defineProperty(HTMLImageElement.prototype, 'naturalWidth', {
        get(this: HTMLImageElement) {
          return /stream\.mjpg/.test(this.currentSrc || this.src) ? 0 : (natural.get!.call(this) as number);
        },
      });
    });
    await page.goto(url);
    await until(() => server.live.viewerCount === 1, 'the page to try the multipart stream first');
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).src.startsWith('blob:'), undefined, { timeout: 15_000 });
    await until(() => server.live.viewerCount === 0, 'the page to close the stream it cannot show');
    const first = await page.evaluate(() => (document.getElementById('video') as HTMLImageElement).src);
    await page.waitForFunction((prev) => (document.getElementById('video') as HTMLImageElement).src !== prev, first, { timeout: 5000 });
    assert.ok(await page.evaluate(() => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0), 'the polled snapshot shows');
    await page.waitForFunction(() => /polling/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 5000 });
  });

  test("polling asks for snapshots at about the stream's rate, not faster", async (t) => {
    const fps = 4;
    const { url } = await serve(t, testPattern({ width: 160, height: 120, fps }));
    const page = await newPage(t);
    let requests = 0;
    page.on('request', (request) => {
      if (/snapshot\.jpg/.test(request.url())) requests++;
    });
    await page.goto(`${url}?mode=poll`);
    // The page learns the rate from /api/status within its first second or two.
    await page.waitForFunction(() => /polling/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 10_000 });
    await delay(1500);
    const from = requests;
    const started = Date.now();
    await delay(3000);
    const seconds = (Date.now() - started) / 1000;
    const count = requests - from;
    // Generous bounds: a page that ignored the rate polls at 10/s (30 here); one that stopped
    // polling asks for nothing.
    assert.ok(count >= 3, `${count} snapshot requests in ${seconds.toFixed(1)} s: polling goes on`);
    assert.ok(count <= fps * seconds * 1.5 + 2, `${count} snapshot requests in ${seconds.toFixed(1)} s for a ${fps} fps stream`);
  });

  test('polling a source that is down waits as the 503 asks (Retry-After), not the frame rate', async (t) => {
    const source = new FakeSource();
    source.startError = new Error('camera unplugged (test)');
    const { server, url } = await serve(t, source, { restartDelaysMs: [60_000], stallTimeoutMs: 0 });
    const page = await newPage(t);
    const answers: number[] = [];
    page.on('response', (response) => {
      if (/snapshot\.jpg/.test(response.url())) answers.push(response.status());
    });
    await page.goto(`${url}?mode=poll`);
    await until(() => server.broadcaster.state === 'retrying', 'the source to fail');
    // The first 503 that comes at once (the next attempt is a minute away) says Retry-After: 60.
    await until(() => answers.length >= 2, 'a snapshot answered while the source is down', 15_000);
    const seen = answers.length;
    await delay(3000);
    // Polling at the page's default 10/s would make about 30 requests here.
    assert.ok(answers.length - seen <= 1, `${answers.length - seen} more snapshot requests within 3 s of a 503 with Retry-After`);
    assert.ok(answers.every((status) => status === 503), answers.join(' '));
  });

  test('the page shows "no signal" with the reason while the source is down', async (t) => {
    const jpeg = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#2a4' } }).jpeg().toBuffer();
    const source = new FakeSource();
    const { url } = await serve(t, source, { restartDelaysMs: [60_000], stallTimeoutMs: 0 });
    const timer = setInterval(() => source.emit(jpeg), 100);
    t.after(() => clearInterval(timer));
    const page = await newPage(t);
    await page.goto(url);
    await stateIs(page, 'live');
    source.fail(new Error('camera unplugged (test)'));
    await stateIs(page, 'no signal');
    assert.match((await page.textContent('#error')) ?? '', /camera unplugged \(test\)/);
  });

  test('the page shows "reconnecting" while the server is away and goes live again by itself', async (t) => {
    const first = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }));
    const page = await newPage(t);
    await page.goto(first.url);
    await stateIs(page, 'live');
    await first.server.close();
    await stateIs(page, 'reconnecting');
    // The same address comes back (a restarted camcast).
    const second = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }), { port: first.port });
    await until(() => second.server.live.viewerCount === 1, 'the page to reopen its stream', 15_000);
    await stateIs(page, 'live');
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 10_000 });
  });
});
