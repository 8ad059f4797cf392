import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import sharp from 'sharp';
import { forFastify } from './adapters/fastify.js';
import { isCamcastError } from './errors.js';
import type { ViewerInfo } from './http/mjpeg-viewer.js';
import { LiveStream, mjpeg, snapshot, status, stream, type LiveStreamOptions, type NodeHandler } from './live-stream.js';
import { push } from './sources/push.js';
import type { Source } from './sources/source.js';
import { createServer } from './stream-server.js';
import { FakeSource, minimalJpeg, tinyJpeg, until } from './testing/fake-source.js';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';
import { openStalledViewer } from './testing/stalled-viewer.js';

function live(t: TestContext, source: Source | string, options: LiveStreamOptions = {}): LiveStream {
  const cam = stream(source, options);
  // Bounded and quiet, so the other cleanups still run; the close() test asserts close() itself.
  t.after(() => within(cam.close(), 'close()').catch(() => {}));
  return cam;
}

/** A plain node:http server on port 0 that routes paths to handlers. */
async function serve(t: TestContext, routes: Record<string, NodeHandler>): Promise<{ url: string; port: number }> {
  const server = http.createServer((req, res) => {
    const handler = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()));
  return listen(server);
}

async function listen(server: http.Server): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, port };
}

function watch(t: TestContext, url: string) {
  const client = openMjpeg(url);
  t.after(() => client.destroy());
  return client;
}

/** Emits fake frames until every client has `count` parts (bounded by until()'s timeout). */
async function feed(source: FakeSource, clients: ReturnType<typeof watch>[], count = 2): Promise<void> {
  let mark = 0;
  await until(() => {
    source.emit(tinyJpeg(++mark));
    return clients.every((c) => c.parts.length >= count);
  }, `${count} parts on every client`);
}

/** Bounds a wait so that a regression fails the test instead of hanging the suite. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function gray(width: number, height: number, level: number) {
  return { data: Buffer.alloc(width * height, level), width, height, channels: 1 as const };
}

describe('stream()', () => {
  test('cam.mjpeg, cam.snapshot and cam.status on node:http serve one shared capture', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source);
    const { url } = await serve(t, { '/cam': cam.mjpeg, '/cam.jpg': cam.snapshot, '/cam/status': cam.status });
    const clients = [watch(t, `${url}cam`), watch(t, `${url}cam`)];
    const res = await clients[0]!.response;
    assert.match(res.headers['content-type']!, /^multipart\/x-mixed-replace; boundary=/);
    await feed(source, clients);
    const shot = await fetchBuffer(`${url}cam.jpg`);
    assert.equal(shot.status, 200);
    assert.equal(shot.headers['content-type'], 'image/jpeg');
    assert.deepEqual(shot.body, cam.broadcaster.latest!.jpeg, 'the newest frame');
    const report = await fetchBuffer(`${url}cam/status`);
    const body = JSON.parse(report.body.toString());
    assert.equal(body.viewers.count, 2);
    assert.equal(body.source.description, 'fake source');
    assert.equal(body.source.state, 'live');
    assert.equal(source.starts, 1, 'one capture for two streams and a snapshot');
  });

  test('Express app.get(path, cam.mjpeg) and mjpeg(cam) share the capture with a node:http mount', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source);
    const app = express();
    app.get('/cam', mjpeg(cam));
    app.get('/cam.jpg', snapshot(cam));
    app.get('/cam/status', status(cam));
    const server = http.createServer(app);
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()));
    const viaExpress = await listen(server);
    const viaHttp = await serve(t, { '/other': cam.mjpeg });
    const clients = [watch(t, `${viaExpress.url}cam`), watch(t, `${viaHttp.url}other`)];
    await feed(source, clients);
    const shot = await fetchBuffer(`${viaExpress.url}cam.jpg`);
    assert.equal(shot.status, 200);
    assert.deepEqual(shot.body, cam.broadcaster.latest!.jpeg);
    const body = JSON.parse((await fetchBuffer(`${viaExpress.url}cam/status`)).body.toString());
    assert.equal(body.viewers.count, 2, 'viewers of both apps in one status');
    assert.equal(source.starts, 1);
  });

  test('an Express route that awaits before cam.mjpeg, while the client leaves, leaves no viewer behind', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source);
    let reached = 0;
    let served = 0;
    const app = express();
    app.get(
      '/cam',
      // An async step (a session lookup) during which the client goes away.
      (_req, res, next) => {
        reached++;
        res.once('close', () => setImmediate(next));
      },
      (req, res) => {
        cam.mjpeg(req, res);
        served++;
      },
    );
    const server = http.createServer(app);
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()));
    const { url } = await listen(server);
    const gone = http.get(`${url}cam`);
    gone.on('error', () => {});
    await until(() => reached === 1, 'the request to reach the route');
    gone.destroy();
    await until(() => served === 1, 'cam.mjpeg to be called after the client left');
    assert.equal(cam.viewerCount, 0);
    assert.equal(cam.broadcaster.subscriberCount, 0, 'nothing keeps the capture running');
    await within(cam.close(), 'close() with no viewer left to wait for');
  });

  test('Fastify app.get(path, forFastify(cam.mjpeg)) streams, and HEAD gets headers only', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source);
    const app = Fastify({ forceCloseConnections: true });
    t.after(() => app.close());
    app.get('/cam', forFastify(cam.mjpeg));
    app.get('/cam.jpg', forFastify(cam.snapshot));
    app.get('/cam/status', forFastify(cam.status));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
    const client = watch(t, `${url}cam`);
    await feed(source, [client]);
    const head = await fetchBuffer(`${url}cam`, 'HEAD');
    assert.equal(head.status, 200);
    assert.match(String(head.headers['content-type']), /^multipart\/x-mixed-replace/);
    assert.equal(head.body.length, 0);
    const shot = await fetchBuffer(`${url}cam.jpg`);
    assert.deepEqual(shot.body, cam.broadcaster.latest!.jpeg);
    const body = JSON.parse((await fetchBuffer(`${url}cam/status`)).body.toString());
    assert.equal(body.viewers.count, 1);
  });

  test('viewer-joined and viewer-left carry the viewer; viewers counts after each', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source);
    const { url } = await serve(t, { '/cam': cam.mjpeg });
    const joined: ViewerInfo[] = [];
    const left: ViewerInfo[] = [];
    const counts: number[] = [];
    cam.on('viewer-joined', (v) => joined.push(v));
    cam.on('viewer-left', (v) => left.push(v));
    cam.on('viewers', (n) => counts.push(n));
    const client = watch(t, `${url}cam`);
    await feed(source, [client], 3);
    assert.equal(joined.length, 1);
    assert.equal(joined[0]!.remoteAddress, '127.0.0.1');
    client.destroy();
    await until(() => left.length === 1, 'viewer-left');
    assert.equal(left[0]!.id, joined[0]!.id);
    assert.equal(left[0]!.remoteAddress, '127.0.0.1', 'still known after the socket closed');
    assert.ok(left[0]!.framesSent >= 3, `final count of frames sent (${left[0]!.framesSent})`);
    assert.deepEqual(counts, [1, 0]);
    assert.equal(cam.viewerCount, 0);
  });

  test('a throwing frame listener and a rejecting subscribe() callback do not stop the stream', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source);
    const { url } = await serve(t, { '/cam': cam.mjpeg });
    const errors: Error[] = [];
    cam.on('error', (e) => errors.push(e));
    cam.on('frame', () => {
      throw new Error('listener bug');
    });
    const unsubscribe = cam.subscribe(async () => {
      throw new Error('pipeline bug');
    });
    t.after(unsubscribe);
    const client = watch(t, `${url}cam`);
    await feed(source, [client], 5);
    await until(() => errors.length > 0, 'an error event');
    assert.ok(errors.every((e) => e.message === 'pipeline bug'));
  });

  test('subscribe() counts as a viewer: it starts the capture and gets every frame', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source, { idleTimeoutMs: 1 });
    const seen: number[] = [];
    const unsubscribe = cam.subscribe((frame) => {
      seen.push(frame.seq);
    });
    await until(() => source.running, 'the capture started');
    await until(() => (source.emit(), seen.length >= 3), 'three frames');
    assert.deepEqual(seen.slice(0, 3), [1, 2, 3]);
    unsubscribe();
    await until(() => !source.running, 'the capture stopped after the linger');
  });

  test('idleTimeoutMs 0 captures from creation until close()', async (t) => {
    const source = new FakeSource();
    const cam = live(t, source, { idleTimeoutMs: 0 });
    await until(() => source.running, 'the capture started without a viewer');
    await within(cam.close(), 'close()');
    assert.equal(source.running, false);
  });

  test('close() is idempotent, ends streams, cuts a stalled viewer, stops the source; later requests get 503', async (t) => {
    const source = push();
    const cam = live(t, source);
    const { url, port } = await serve(t, { '/cam': cam.mjpeg, '/cam.jpg': cam.snapshot });
    const client = watch(t, `${url}cam`);
    await client.response;
    const stalled = openStalledViewer(port, '/cam');
    t.after(() => stalled.kill());
    await stalled.connected;
    await until(() => cam.viewerCount === 2, 'two viewers');
    const big = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).jpeg({ quality: 100 }).toBuffer();
    // Until the stalled viewer's socket is full and it skips frames (bounded by until()).
    await until(() => {
      source.push(big);
      return cam.viewers().some((v) => v.framesDropped > 0);
    }, 'the stalled viewer to drop frames', 10_000);
    const first = cam.close();
    assert.equal(cam.close(), first, 'the same promise');
    await within(first, 'close()');
    assert.equal(cam.viewerCount, 0, 'every stream response closed');
    await within(client.closed, 'the end of the live stream');
    assert.equal(source.push(big), false, 'the push source is stopped');
    const after = await fetchBuffer(`${url}cam.jpg`);
    assert.equal(after.status, 503);
    assert.match(after.body.toString(), /closed/);
  });

  test('a handler answers 405 to POST and mjpeg() refuses a bare Source with BAD_OPTION', async (t) => {
    const cam = live(t, new FakeSource());
    const { url } = await serve(t, { '/cam': cam.mjpeg });
    const res = await fetchBuffer(`${url}cam`, 'POST');
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.throws(() => mjpeg(new FakeSource() as unknown as LiveStream), (e: unknown) => isCamcastError(e, 'BAD_OPTION'));
  });

  test('push() of raw pixels faster than they encode: the newest frame wins', async (t) => {
    const source = push();
    const cam = live(t, source);
    const { url } = await serve(t, { '/cam': cam.mjpeg });
    const client = watch(t, `${url}cam`);
    await client.response;
    const levels = Array.from({ length: 30 }, (_, i) => 10 + i * 8);
    // One synchronous burst: the first frame is encoding while the others arrive.
    for (const level of levels) assert.equal(source.push(gray(64, 48, level)), true);
    const parts = await client.waitForParts(2);
    assert.equal(source.dropped, levels.length - 2, 'all but the first and the newest were replaced');
    const stats = await sharp(parts[1]!.body).stats();
    assert.ok(Math.abs(stats.channels[0]!.mean - levels.at(-1)!) < 3, `newest level ${levels.at(-1)}, got ${stats.channels[0]!.mean}`);
    const meta = await sharp(parts[1]!.body).metadata();
    assert.deepEqual([meta.width, meta.height], [64, 48]);
  });

  test('stream() refuses what is not a Source, a spec string or an options object, with one BAD_OPTION line', () => {
    const notSource = /^source must be a Source \(an object with start\(\) and stop\(\)\) or a source spec string such as 'test', '\/dev\/video0', 'clip\.mp4' or a URL \(got .+\)$/;
    const bad: Array<[() => unknown, RegExp]> = [
      [() => (stream as (...a: unknown[]) => LiveStream)(), notSource],
      [() => stream(null as unknown as string), notSource],
      [() => stream(42 as unknown as string), notSource],
      [() => stream({ start() {} } as unknown as Source), notSource],
      [() => stream('test', null as unknown as LiveStreamOptions), /^stream\(\) takes an options object, e\.g\. stream\('test', \{ idleTimeoutMs: 0 \}\) \(got null\)$/],
      [() => stream(new FakeSource(), { logger: console.log } as unknown as LiveStreamOptions), /^logger must have debug, info, warn and error functions/],
      [() => stream(new FakeSource(), { startTimeoutMs: 0 }), /^startTimeoutMs must be a number from 1/],
      [() => stream(new FakeSource(), { snapshotTimeoutMs: 0 }), /^snapshotTimeoutMs must be a number from 1/],
      [() => stream(new FakeSource(), { restartDelaysMs: [1000, 0] }), /^each of restartDelaysMs must be a number from 1/],
    ];
    for (const [call, message] of bad) {
      assert.throws(call, (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message), String(call));
    }
  });

  test('a second stream() on a source another open stream owns is refused; once that one closes it is free', async (t) => {
    const source = push();
    const first = live(t, source, { idleTimeoutMs: 0 });
    assert.throws(
      () => stream(source, { idleTimeoutMs: 0 }),
      (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /already feeds another stream: mount that stream's handlers in both places, create a second source/.test(e.message),
    );
    assert.equal(first.broadcaster.state, 'starting', 'the first one keeps its capture');
    await within(first.close(), 'close()');
    const second = live(t, source, { idleTimeoutMs: 0 });
    const frames: number[] = [];
    second.subscribe((frame) => void frames.push(frame.seq));
    await until(() => {
      source.push(minimalJpeg());
      return frames.length > 0;
    }, 'a frame through the second stream');
    // Closing the first again must not stop the source under its new owner.
    await within(first.close(), 'close() again');
    assert.equal(source.push(minimalJpeg()), true, 'the second stream still captures');
  });

  test('captureAtOnce is no option: idleTimeoutMs 0 captures from creation whatever an options object carries', async (t) => {
    const source = new FakeSource();
    // @ts-expect-error -- StreamServer's internal flag is not part of LiveStreamOptions.
    live(t, source, { idleTimeoutMs: 0, captureAtOnce: false });
    await until(() => source.running, 'the capture started without a viewer');
  });

  test('a spec string opens the source the CLI would', async (t) => {
    const cam = live(t, 'test', { width: 64, height: 48, fps: 10 });
    assert.equal(cam.source.kind, 'test');
    const { url } = await serve(t, { '/cam.jpg': cam.snapshot });
    const shot = await fetchBuffer(`${url}cam.jpg`);
    assert.equal(shot.status, 200);
    const meta = await sharp(shot.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 64, 48]);
  });
});

describe('StreamServer viewer events', () => {
  test('createServer() emits viewer-joined, viewer-left and the viewers count for /stream.mjpg', async (t) => {
    const source = new FakeSource();
    const server = createServer({ source, host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const joined: ViewerInfo[] = [];
    const left: ViewerInfo[] = [];
    const counts: number[] = [];
    server.on('viewer-joined', (v) => joined.push(v));
    server.on('viewer-left', (v) => left.push(v));
    server.on('viewers', (n) => counts.push(n));
    const client = watch(t, `${url}stream.mjpg`);
    await feed(source, [client]);
    assert.equal((await fetchBuffer(`${url}snapshot.jpg`)).status, 200);
    assert.equal(joined.length, 1);
    client.destroy();
    await until(() => left.length === 1, 'viewer-left');
    assert.equal(left[0]!.id, joined[0]!.id);
    assert.deepEqual(counts, [1, 0], 'a snapshot is no stream; after the leave the count is 0');
  });
});

