import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer, type StreamServerOptions } from '../../stream-server.js';
import { until } from '../../testing/fake-source.js';
import { fetchBuffer, openMjpeg } from '../../testing/mjpeg-client.js';

/** The stream at every URL that other tools' configs already use. */
const STREAM_URLS = [
  'stream.mjpg',
  'video_feed', // the Flask recipe
  '?action=stream', // mjpg-streamer: OctoPrint, Mainsail, crowsnest
  '?action=stream&1712345678901', // OctoPrint's cache buster
  'stream', // µStreamer
  'api/stream.mjpeg', // go2rtc
  'api/stream.mjpeg?src=camera1',
];

const SNAPSHOT_URLS = ['snapshot.jpg', '?action=snapshot', 'snapshot', 'api/frame.jpeg', 'api/frame.jpeg?src=camera1'];

async function start(t: TestContext, options: StreamServerOptions = {}) {
  const server = createServer({ source: testPattern({ width: 160, height: 120, fps: 15 }), host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const { url } = await server.listen();
  return { server, url };
}

describe('URL aliases', () => {
  for (const path of STREAM_URLS) {
    test(`GET /${path} streams strict multipart JPEG parts`, async (t) => {
      const { url } = await start(t);
      const client = openMjpeg(url + path);
      t.after(() => client.destroy());
      const res = await client.response;
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type']!, /^multipart\/x-mixed-replace; boundary=\w+$/);
      const parts = await client.waitForParts(3);
      for (const part of parts) {
        assert.ok(part.timestamp > 0 && part.seq > 0, 'X-Timestamp and X-Frame-Seq on every part');
      }
      const meta = await sharp(parts[2]!.body).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 160, 120]);
    });
  }

  for (const path of SNAPSHOT_URLS) {
    test(`GET /${path} answers one JPEG with Content-Length`, async (t) => {
      const { url } = await start(t);
      const res = await fetchBuffer(url + path);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'image/jpeg');
      assert.equal(Number(res.headers['content-length']), res.body.length);
      assert.ok(Number(res.headers['x-timestamp']) > 0);
      const meta = await sharp(res.body).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 160, 120]);
    });
  }

  test('GET /state (µStreamer) answers the same JSON status as /api/status', async (t) => {
    const { url } = await start(t);
    await fetchBuffer(`${url}snapshot.jpg`);
    for (const path of ['state', 'api/status']) {
      const res = await fetchBuffer(url + path);
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type']!, /^application\/json/);
      const status = JSON.parse(res.body.toString());
      assert.deepEqual(status.resolution, { width: 160, height: 120 });
      assert.equal(typeof status.source.state, 'string');
    }
  });

  test('HEAD on the page, the stream and the snapshot answers headers only and leaves no viewer', async (t) => {
    const { server, url } = await start(t);
    const page = await fetchBuffer(url, 'HEAD');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.ok(Number(page.headers['content-length']) > 0);
    assert.equal(page.body.length, 0);
    for (const path of STREAM_URLS) {
      const res = await fetchBuffer(url + path, 'HEAD');
      assert.equal(res.status, 200, path);
      assert.match(res.headers['content-type']!, /^multipart\/x-mixed-replace; boundary=/, path);
      assert.equal(res.body.length, 0, path);
    }
    for (const path of SNAPSHOT_URLS) {
      const res = await fetchBuffer(url + path, 'HEAD');
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], 'image/jpeg', path);
      assert.ok(Number(res.headers['content-length']) > 0, `${path}: Content-Length of the JPEG`);
      assert.equal(res.body.length, 0, path);
    }
    await until(() => server.live.viewerCount === 0, 'no viewer left by HEAD');
  });

  test('OPTIONS answers 204 with Allow, and other methods 405', async (t) => {
    const { url } = await start(t);
    for (const path of ['', ...STREAM_URLS, ...SNAPSHOT_URLS, 'api/status']) {
      const res = await fetchBuffer(url + path, 'OPTIONS');
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS', path);
      assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS without --cors');
    }
    const post = await fetchBuffer(`${url}stream.mjpg`, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD, OPTIONS');
    assert.equal((await fetchBuffer(`${url}nope`)).status, 404);
  });

  test('with cors, a preflight and every answer carry the headers a fetch() reader needs', async (t) => {
    const origin = 'http://127.0.0.1:1';
    const { url } = await start(t, { cors: origin });
    const preflight = await fetchBuffer(`${url}stream.mjpg`, 'OPTIONS', {
      Origin: origin,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization',
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], origin);
    assert.match(preflight.headers['access-control-allow-methods']!, /\bGET\b/);
    assert.match(preflight.headers['access-control-allow-headers']!, /\bauthorization\b/i);
    const snapshot = await fetchBuffer(`${url}snapshot.jpg`, 'GET', { Origin: origin });
    assert.equal(snapshot.headers['access-control-allow-origin'], origin);
    assert.match(snapshot.headers['access-control-expose-headers']!, /X-Timestamp/);
    const client = openMjpeg(`${url}stream.mjpg`);
    t.after(() => client.destroy());
    const res = await client.response;
    assert.equal(res.headers['access-control-allow-origin'], origin);
    assert.match(res.headers['access-control-expose-headers']!, /X-Timestamp/);
  });

  test('the page links only relative URLs, so it works under any path prefix', async (t) => {
    const { url } = await start(t);
    const html = (await fetchBuffer(url)).body.toString();
    const links = [
      ...html.matchAll(/\b(?:href|src)\s*=\s*["']([^"']*)["']/g),
      ...html.matchAll(/\bfetch\(\s*["']([^"']*)["']/g),
      ...html.matchAll(/\.src\s*=\s*["']([^"']*)["']/g),
    ].map((m) => m[1]!);
    assert.ok(links.some((l) => l.startsWith('snapshot.jpg')), 'found the snapshot link');
    assert.ok(links.some((l) => l.startsWith('api/status')), 'found the status fetch');
    assert.ok(links.some((l) => l.startsWith('stream.mjpg')), 'found the stream URL');
    // data: URLs (the empty favicon that spares a /favicon.ico 404) never reach the server.
    for (const link of links) assert.doesNotMatch(link, /^(\/|(?!data:)[a-z]+:)/i, `absolute URL ${link} in the page`);
  });
});
