import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { createServer, type StreamServer } from '../../stream-server.js';
import { launchChromium } from '../../testing/chromium.js';
import { delay, FakeSource, until } from '../../testing/fake-source.js';
import { launchFirefox } from '../../testing/firefox.js';
import { aiohttpReadToEnd } from '../../testing/python-clients.js';

type Color = 'red' | 'green' | 'blue';
const RGB: Record<Color, [number, number, number]> = { red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255] };
const picture = (color: Color) => {
  const [r, g, b] = RGB[color];
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
};

async function serve(t: TestContext): Promise<{ server: StreamServer; source: FakeSource; url: string }> {
  const source = new FakeSource();
  // No stall watch: the pauses between frames are the point, and a "no signal" picture must not come.
  const server = createServer({ source, host: '127.0.0.1', port: 0, stallTimeoutMs: 0 });
  t.after(() => server.close());
  const { url } = await server.listen();
  return { server, source, url };
}

/** The parts of a page these tests use, the same in Playwright and Puppeteer. */
interface Tab {
  goto(url: string): Promise<unknown>;
  evaluate<R>(fn: () => R): Promise<R>;
  /** A screenshot of the <img id="cam">. */
  shot(): Promise<Uint8Array>;
}

/** The colour in the middle of the <img> as the browser paints it (Firefox's canvas would give its first part). */
async function shownColor(tab: Tab): Promise<Color | 'other'> {
  let shot: Uint8Array;
  try {
    shot = await tab.shot();
  } catch {
    return 'other'; // Puppeteer refuses an element of no size: no picture yet.
  }
  const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
  const at = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  const pixel = [data[at]!, data[at + 1]!, data[at + 2]!];
  const match = (Object.keys(RGB) as Color[]).find((c) => RGB[c].every((v, i) => Math.abs(v - pixel[i]!) < 60));
  return match ?? 'other';
}

async function waitForColor(tab: Tab, color: Color, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = await shownColor(tab);
  while (seen !== color && Date.now() < deadline) {
    await delay(100);
    seen = await shownColor(tab);
  }
  assert.equal(seen, color, `the <img> shows ${color}`);
}

/**
 * A same-origin page whose only content is the stream in an <img>, as dashboards embed it; the
 * <img> counts its 'error' events (a page would react to one by reconnecting).
 */
async function embed(tab: Tab, url: string, path = '/stream.mjpg'): Promise<void> {
  // The path rides in the fragment: evaluate() takes no arguments in both drivers alike.
  await tab.goto(`${url}api/health#${path}`);
  await tab.evaluate(() => {
    const img = document.createElement('img');
    img.id = 'cam';
    img.style.display = 'block';
    img.onerror = () => (img.dataset.errors = String(Number(img.dataset.errors ?? 0) + 1));
    img.src = location.hash.slice(1);
    document.body.replaceChildren(img);
  });
}

const imageErrors = (tab: Tab) => tab.evaluate(() => Number(document.getElementById('cam')!.dataset.errors ?? 0));

/**
 * The newest frame is on screen as soon as it is sent, not when the next one comes: Chromium
 * would otherwise keep showing the previous frame for as long as the source pauses.
 */
async function newestFrameShown(t: TestContext, tab: Tab): Promise<void> {
  const { source, url } = await serve(t);
  await embed(tab, url);
  await until(() => source.running, 'the browser to open the stream', 10_000);
  source.emit(await picture('red'));
  await waitForColor(tab, 'red', 10_000);
  source.emit(await picture('green'));
  // Nothing more is sent: green must show without a frame after it.
  await waitForColor(tab, 'green');
}

/** The same when the stream's URL itself is opened in a tab (Chromium shows it in an image document). */
async function newestFrameShownInTab(t: TestContext, tab: Tab): Promise<void> {
  const { server, source, url } = await serve(t);
  // The document never finishes loading: goto() must not wait for it.
  void tab.goto(`${url}stream.mjpg`).catch(() => {});
  await until(() => source.running && server.live.viewerCount === 1, 'the tab to open the stream', 10_000);
  source.emit(await picture('red'));
  await waitForColor(tab, 'red', 10_000);
  source.emit(await picture('green'));
  await waitForColor(tab, 'green');
}

/**
 * A stream that ends (a file played once) leaves its last picture on screen, not a broken image,
 * in either layout: the browser's own, and the standard one it gets through a proxy.
 */
async function lastPictureStays(t: TestContext, tab: Tab, path = '/stream.mjpg'): Promise<void> {
  const { server, source, url } = await serve(t);
  await embed(tab, url, path);
  await until(() => source.running, 'the browser to open the stream', 10_000);
  const colors = ['red', 'green', 'blue'] as const;
  for (const color of colors) {
    source.emit(await picture(color));
    await until(() => server.live.viewers()[0]?.framesSent === colors.indexOf(color) + 1, `${color} to be sent`);
  }
  source.end();
  await until(() => server.live.viewerCount === 0, 'the stream to end');
  // In the standard layout Chromium shows the last frame only now, when its part is closed.
  await waitForColor(tab, 'blue');
  await delay(500);
  assert.equal(await shownColor(tab), 'blue', `${path}: after the end the last picture stays`);
  assert.equal(await imageErrors(tab), 0, `${path}: the <img> reported no error`);
}

const lastPictureStaysStandard = (t: TestContext, tab: Tab) => lastPictureStays(t, tab, '/stream.mjpg?advance_headers=0');

describe('frames in browsers', () => {
  test("Chromium shows each newest frame at once, in an <img> or a tab (the next part's headers follow it), and keeps the last one when the stream ends", async (t) => {
    const chromium = await launchChromium();
    t.after(() => chromium.close());
    for (const check of [newestFrameShown, lastPictureStays, lastPictureStaysStandard]) {
      const page = await chromium.browser.newPage();
      await check(t, { goto: (u) => page.goto(u), evaluate: (fn) => page.evaluate(fn), shot: () => page.locator('#cam').screenshot() });
      await page.close();
    }
    const page = await chromium.browser.newPage();
    await newestFrameShownInTab(t, { goto: (u) => page.goto(u, { waitUntil: 'commit' }), evaluate: (fn) => page.evaluate(fn), shot: () => page.locator('img').screenshot() });
    await page.close();
  });

  test('Firefox shows each newest frame at once and keeps the last one when the stream ends', async (t) => {
    const firefox = await launchFirefox();
    t.after(() => firefox.close());
    for (const check of [newestFrameShown, lastPictureStays, lastPictureStaysStandard]) {
      const page = await firefox.browser.newPage();
      await check(t, { goto: (u) => page.goto(u), evaluate: (fn) => page.evaluate(fn), shot: async () => (await page.$('#cam'))!.screenshot() });
      await page.close();
    }
  });
});

describe('the end of a stream for strict readers', () => {
  test('aiohttp.MultipartReader reads every picture and then a clean end, not "Reading after EOF"', async (t) => {
    const { server, source, url } = await serve(t);
    const reading = aiohttpReadToEnd(t, `${url}stream.mjpg`);
    await until(() => source.running && server.live.viewerCount === 1, 'the reader to connect', 10_000);
    for (const color of ['red', 'green', 'blue'] as const) {
      source.emit(await picture(color));
      await delay(100);
    }
    source.end();
    assert.deepEqual(await reading, { pictures: 3, empty: 1, error: null });
  });
});
