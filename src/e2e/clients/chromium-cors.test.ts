import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { launchChromium } from '../../testing/chromium.js';

let chromium: { browser: BrowserContext; close: () => Promise<void> } | undefined;

/** A page on another origin (another port), as a dashboard embedding camcast would be. */
async function otherOrigin(t: TestContext): Promise<string> {
  const site = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>dashboard</title>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    // The browser keeps its connections to the page open; cut them so close() can finish.
    site.closeAllConnections();
    return new Promise<void>((resolve) => site.close(() => resolve()));
  });
  return `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
}

async function camcast(t: TestContext, cors?: string): Promise<string> {
  const server = createServer({ source: testPattern({ width: 160, height: 120, fps: 15 }), host: '127.0.0.1', port: 0, cors });
  t.after(() => server.close());
  return (await server.listen()).url;
}

async function pageAt(t: TestContext, origin: string): Promise<Page> {
  const page = await chromium!.browser.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.goto(`${origin}/`);
  return page;
}

interface ReadFrames {
  readonly contentType: string | null;
  readonly frames: { width: number; height: number; timestamp: number }[];
}

/**
 * Runs in the page: reads a stream with fetch() and a ReadableStream reader, splitting parts by
 * their Content-Length as Mainsail's "MJPEG-Streamer" mode and similar dashboards do, and
 * decodes each JPEG. Needs the CORS headers on a cross-origin stream.
 */
async function readFramesInPage({ url, count }: { url: string; count: number }): Promise<ReadFrames> {
  const res = await fetch(url, { mode: 'cors', cache: 'no-store' });
  const reader = res.body!.getReader();
  let buffer = new Uint8Array(0);
  const frames: { width: number; height: number; timestamp: number }[] = [];
  const latin1 = new TextDecoder('latin1');
  try {
    for (let reads = 0; frames.length < count && reads < 10_000; reads++) {
      const { done, value } = await reader.read();
      if (done) break;
      const joined = new Uint8Array(buffer.length + value.length);
      joined.set(buffer);
      joined.set(value, buffer.length);
      buffer = joined;
      for (;;) {
        const text = latin1.decode(buffer.subarray(0, Math.min(buffer.length, 1024)));
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) break;
        const length = Number(/content-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1]);
        const timestamp = Number(/x-timestamp:\s*([\d.]+)/i.exec(text.slice(0, end))?.[1]);
        if (buffer.length < end + 4 + length) break;
        const jpeg = buffer.slice(end + 4, end + 4 + length);
        buffer = buffer.subarray(end + 4 + length);
        const bitmap = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
        frames.push({ width: bitmap.width, height: bitmap.height, timestamp });
        bitmap.close();
      }
    }
  } finally {
    await reader.cancel();
  }
  return { contentType: res.headers.get('content-type'), frames };
}

describe('cross-origin fetch() readers (--cors) in Chromium', () => {
  before(async () => {
    chromium = await launchChromium();
  });
  after(() => chromium?.close());

  test('with cors set to the page origin, fetch() reads the stream part by part and the snapshot with its headers', async (t) => {
    const origin = await otherOrigin(t);
    const url = await camcast(t, origin);
    const page = await pageAt(t, origin);
    const stream = await page.evaluate(readFramesInPage, { url: `${url}stream.mjpg`, count: 5 }).catch((e) => {
      throw new Error(`reading the stream failed: ${e}`);
    });
    assert.match(stream.contentType!, /^multipart\/x-mixed-replace/);
    assert.equal(stream.frames.length, 5);
    for (const frame of stream.frames) {
      assert.deepEqual([frame.width, frame.height], [160, 120]);
      assert.ok(frame.timestamp > 0, 'X-Timestamp of each part');
    }

    const snapshot = await page.evaluate(async (u) => {
      // The Authorization header makes this a non-simple request: the browser sends a preflight.
      const res = await fetch(u, { mode: 'cors', headers: { Authorization: 'Bearer not-checked' } });
      const blob = await res.blob();
      const bitmap = await createImageBitmap(blob);
      return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), size: blob.size, timestamp: res.headers.get('x-timestamp'), width: bitmap.width };
    }, `${url}snapshot.jpg`);
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.type, 'image/jpeg');
    assert.equal(Number(snapshot.length), snapshot.size, 'Content-Length is readable and right');
    assert.ok(Number(snapshot.timestamp) > 0, 'X-Timestamp is exposed to the page');
    assert.equal(snapshot.width, 160);
  });

  test('without cors, the browser refuses a cross-origin fetch() of the stream', async (t) => {
    const origin = await otherOrigin(t);
    const url = await camcast(t);
    const page = await pageAt(t, origin);
    const outcome = await page.evaluate(async (u) => {
      try {
        const res = await fetch(u, { mode: 'cors' });
        await res.body?.cancel();
        return `read ${res.status}`;
      } catch (error) {
        return `refused: ${error}`;
      }
    }, `${url}stream.mjpg`);
    assert.match(outcome, /^refused: TypeError/);
  });
});
