import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { testPattern } from '../../sources/test-pattern.js';
import type { Source } from '../../sources/source.js';
import { createServer, type StreamServer } from '../../stream-server.js';
import { launchChromium } from '../../testing/chromium.js';
import { delay, FakeSource, until } from '../../testing/fake-source.js';
import { openMjpeg } from '../../testing/mjpeg-client.js';

let chromium: { browser: BrowserContext; close: () => Promise<void> } | undefined;

async function serve(
  t: TestContext,
  source: Source,
  options: { port?: number; restartDelaysMs?: number[]; stallTimeoutMs?: number; token?: string; maxViewers?: number } = {},
): Promise<{ server: StreamServer; url: string; port: number }> {
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
/** A page that saw its source live, then fail ('camera unplugged (test)'); the next attempt is a minute away. */
async function pageOfFailedSource(t: TestContext, jpeg?: Buffer): Promise<{ server: StreamServer; page: Page }> {
  const source = new FakeSource();
  const { server, url } = await serve(t, source, { restartDelaysMs: [60_000], stallTimeoutMs: 0 });
  const timer = setInterval(() => source.emit(jpeg), 100);
  t.after(() => clearInterval(timer));
  const page = await newPage(t);
  await page.goto(url);
  await stateIs(page, 'live');
  source.fail(new Error('camera unplugged (test)'));
  await stateIs(page, 'no signal');
  return { server, page };
}

const textOf = async (page: Page, id: string) => (await page.textContent(`#${id}`)) ?? '';

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
    const retryAfter: number[] = [];
    page.on('response', (response) => {
      if (!/snapshot\.jpg/.test(response.url())) return;
      answers.push(response.status());
      retryAfter.push(Number(response.headers()['retry-after']));
    });
    await page.goto(`${url}?mode=poll`);
    await until(() => server.broadcaster.state === 'retrying', 'the source to fail');
    // The first snapshot waits for the capture it started, which fails; the next attempt is a
    // minute away, and the 503 says so (Retry-After).
    await until(() => answers.length >= 1, 'a snapshot answered while the source is down', 15_000);
    assert.ok(retryAfter[0]! >= 50, `Retry-After: ${retryAfter[0]}`);
    const seen = answers.length;
    await delay(3000);
    // Polling at the page's default 10/s would make about 30 requests here.
    assert.ok(answers.length - seen <= 1, `${answers.length - seen} more snapshot requests within 3 s of a 503 with Retry-After`);
    assert.ok(answers.every((status) => status === 503), answers.join(' '));
  });

  test('the page shows "no signal" with the reason while the source is down', async (t) => {
    const jpeg = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#2a4' } }).jpeg().toBuffer();
    const { page } = await pageOfFailedSource(t, jpeg);
    assert.match((await page.textContent('#error')) ?? '', /camera unplugged \(test\)/);
  });

  test('the page shows "reconnecting" while the server is away and goes live again by itself', async (t) => {
    const first = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }));
    const page = await newPage(t);
    await page.goto(first.url);
    await stateIs(page, 'live');
    await first.server.close();
    await stateIs(page, 'reconnecting');
    assert.equal(await textOf(page, 'fps'), '– fps', 'no frame rate while nothing arrives');
    // The same address comes back (a restarted camcast).
    const second = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }), { port: first.port });
    await until(() => second.server.live.viewerCount === 1, 'the page to reopen its stream', 15_000);
    await stateIs(page, 'live');
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).naturalWidth > 0, undefined, { timeout: 10_000 });
  });

  test('a token refused after a restart with a new one says so, instead of "server unreachable"', async (t) => {
    const first = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }), { token: 'first-token-123' });
    const page = await newPage(t);
    await page.goto(`${first.url}?token=first-token-123`);
    await stateIs(page, 'live');
    await first.server.close();
    await serve(t, testPattern({ width: 160, height: 120, fps: 10 }), { port: first.port, token: 'second-token-456' });
    await stateIs(page, 'denied');
    assert.match(await textOf(page, 'error'), /token or password was refused/);
    assert.equal(await page.title(), 'denied · camcast');
  });

  test('with every viewer slot taken the page says so, asks again as Retry-After says, and shows no broken image', async (t) => {
    const { server, url } = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }), { maxViewers: 1 });
    const holder = openMjpeg(`${url}stream.mjpg`, { keepBodies: false });
    t.after(() => holder.destroy());
    await until(() => server.live.viewerCount === 1, 'the one slot to be taken');
    const page = await newPage(t);
    const streamRequests: number[] = [];
    page.on('request', (request) => {
      if (/stream\.mjpg/.test(request.url()) && request.method() === 'GET') streamRequests.push(Date.now());
    });
    await page.goto(url);
    await page.waitForFunction(() => /no free viewer slot; trying again in 5 s/.test(document.getElementById('error')!.textContent ?? ''), undefined, { timeout: 10_000 });
    assert.equal(await textOf(page, 'state'), 'reconnecting');
    assert.ok(await page.evaluate(() => getComputedStyle(document.getElementById('video')!).visibility === 'hidden'), 'no broken-image icon');
    const from = streamRequests.length;
    await delay(6000);
    // At the old fixed second this would be about 6 requests; Retry-After: 5 allows 1 or 2.
    assert.ok(streamRequests.length - from <= 2, `${streamRequests.length - from} stream requests in 6 s`);
    holder.destroy();
    await stateIs(page, 'live');
    await page.waitForFunction(() => getComputedStyle(document.getElementById('video')!).visibility === 'visible', undefined, { timeout: 5000 });
    assert.equal(server.live.viewerCount, 1);
  });

  test('Snapshot downloads a file named after the capture time, and a failed one says why', async (t) => {
    const { url } = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }));
    const page = await newPage(t);
    await page.goto(url);
    await stateIs(page, 'live');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#snapshot')]);
    assert.match(download.suggestedFilename(), /^snapshot-\d{8}-\d{6}\.jpg$/);
    const saved = await download.path();
    assert.ok(saved, 'the download completed');
    assert.deepEqual((await sharp(saved).metadata()).width, 160);

    const source = new FakeSource();
    source.startError = new Error('camera unplugged (test)');
    const down = await serve(t, source, { restartDelaysMs: [60_000], stallTimeoutMs: 0 });
    const downPage = await newPage(t);
    await downPage.goto(down.url);
    await stateIs(downPage, 'no signal');
    await downPage.click('#snapshot');
    await downPage.waitForFunction(() => /^no snapshot: no picture: camera unplugged \(test\); the next attempt is in \d+ s$/.test(document.getElementById('notice')!.textContent ?? ''), undefined, {
      timeout: 10_000,
    });
  });

  test("Fullscreen uses Safari's prefixed API where the standard one is missing, and goes where neither exists", async (t) => {
    const { url } = await serve(t, testPattern({ width: 160, height: 120, fps: 10 }));
    const prefixed = await newPage(t);
    await prefixed.addInitScript(() => {
      delete (Element.prototype as { requestFullscreen?: unknown }).requestFullscreen;
      (Element.prototype as unknown as Record<string, unknown>).webkitRequestFullscreen = function (this: Element) {
        document.body.dataset.webkitFullscreen = this.id;
      };
      (Document.prototype as unknown as Record<string, unknown>).webkitExitFullscreen = () => {};
    });
    const errors: string[] = [];
    prefixed.on('pageerror', (error) => errors.push(error.message));
    await prefixed.goto(url);
    await prefixed.click('#fullscreen');
    assert.equal(await prefixed.evaluate(() => document.body.dataset.webkitFullscreen), 'stage');
    assert.deepEqual(errors, []);

    const neither = await newPage(t);
    await neither.addInitScript(() => {
      delete (Element.prototype as { requestFullscreen?: unknown }).requestFullscreen;
      delete (Element.prototype as { webkitRequestFullscreen?: unknown }).webkitRequestFullscreen;
    });
    await neither.goto(url);
    assert.equal(await neither.isHidden('#fullscreen'), true);
  });

  test('a page whose stream was cut while the source is down opens it again, without waiting for the source', async (t) => {
    const { server, page } = await pageOfFailedSource(t);
    // A proxy or a network change cuts the page's stream.
    await page.evaluate(() => document.getElementById('video')!.removeAttribute('src'));
    await until(() => server.live.viewerCount === 0, 'the stream to close');
    await until(() => server.live.viewerCount === 1, 'the page to reopen its stream while the source is down', 15_000);
    assert.equal(server.broadcaster.state, 'retrying');
  });
});
