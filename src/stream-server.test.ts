import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { isCamcastError } from './errors.js';
import { push } from './sources/push.js';
import { testPattern } from './sources/test-pattern.js';
import { createServer, type StreamServerOptions } from './stream-server.js';
import { delay, FakeSource, minimalJpeg, until } from './testing/fake-source.js';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';
import { lateReader } from './testing/python-clients.js';
import { openStalledViewer } from './testing/stalled-viewer.js';
import { makeClip } from './testing/test-clip.js';

async function start(t: TestContext, options: StreamServerOptions) {
  const server = createServer({ host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const address = await server.listen();
  return { server, url: address.url, port: address.port };
}

function watch(t: TestContext, url: string, headers: Record<string, string> = {}) {
  const client = openMjpeg(url, { headers });
  t.after(() => client.destroy());
  return client;
}

async function status(url: string) {
  const res = await fetchBuffer(`${url}api/status`);
  assert.equal(res.status, 200);
  return JSON.parse(res.body.toString()) as any;
}

describe('StreamServer', () => {
  test('GET /stream.mjpg sends the live test pattern to several viewers in strict multipart', async (t) => {
    const { url } = await start(t, { source: testPattern({ width: 160, height: 120, fps: 30 }) });
    const clients = [1, 2, 3].map(() => watch(t, `${url}stream.mjpg`));
    const res = await clients[0]!.response;
    assert.match(res.headers['content-type']!, /^multipart\/x-mixed-replace; boundary=\w+$/);
    assert.match(res.headers['cache-control']!, /no-cache/);
    assert.equal(res.headers['transfer-encoding'], undefined, 'raw multipart body, not chunked');
    for (const client of clients) {
      const parts = await client.waitForParts(10);
      const seqs = parts.map((p) => p.seq);
      assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'frames in order');
      assert.ok(parts.every((p, i) => i === 0 || p.timestamp >= parts[i - 1]!.timestamp), 'timestamps grow');
      assert.equal(new Set(parts.map((p) => p.body.toString('base64'))).size, parts.length, 'every frame differs');
      const meta = await sharp(parts[9]!.body).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, 160);
      assert.equal(meta.height, 120);
    }
  });

  test('GET /stream.mjpg sends a video file (made by ffmpeg here) to several viewers', async (t) => {
    const { path: clip } = makeClip(t, { size: '176x144' });
    const { url } = await start(t, { source: clip });
    const clients = [1, 2, 3].map(() => watch(t, `${url}stream.mjpg`));
    for (const client of clients) {
      const parts = await client.waitForParts(10, 15_000);
      const meta = await sharp(parts[9]!.body).metadata();
      assert.deepEqual([meta.width, meta.height], [176, 144]);
    }
    const s = await status(url);
    assert.equal(s.source.kind, 'file');
    assert.equal(s.viewers.count, 3);
  });

  test('GET /stream.mjpg sends the newest frame at once to a newcomer', async (t) => {
    const source = push();
    const { url } = await start(t, { source });
    const first = watch(t, `${url}stream.mjpg`);
    await first.response;
    await until(() => source.push(minimalJpeg(1)), 'source running');
    await first.waitForParts(1);
    const second = watch(t, `${url}stream.mjpg`);
    const [part] = await second.waitForParts(1, 3000);
    assert.equal(part!.seq, first.parts.at(-1)!.seq, 'the current frame, without a new capture');
  });

  test('a stalled viewer holds at most one pending frame and the others keep up', async (t) => {
    const source = push();
    const { server, url, port } = await start(t, { source });
    const live = [watch(t, `${url}stream.mjpg`), watch(t, `${url}stream.mjpg`)];
    await Promise.all(live.map((c) => c.response));
    const stalled = openStalledViewer(port, '/stream.mjpg');
    t.after(() => stalled.kill());
    await stalled.connected;
    await until(() => source.push(minimalJpeg(0)), 'source running');
    // ~100 KB frames at about 100/s: easy for live viewers on loopback, far more than a 4 KB
    // receive window can take.
    const big = await noisyJpeg(320, 240);
    const pushes = 200;
    for (let i = 0; i < pushes; i++) {
      source.push(big);
      await delay(10);
    }
    // Every live viewer gets the last frame (a newest frame is never dropped, only replaced).
    const lastSeq = server.broadcaster.latest!.seq;
    await until(() => live.every((c) => c.parts.at(-1)?.seq === lastSeq), 'live viewers to receive the last frame', 20_000);
    const s = await status(url);
    const views = s.viewers.list as Array<{ framesDropped: number; framesSent: number; pendingBytes: number }>;
    const stalledView = views.find((v) => v.framesDropped > 0);
    assert.ok(stalledView, `the stalled viewer drops frames: ${JSON.stringify(views)}`);
    const partBytes = big.length + 200;
    assert.ok(stalledView.pendingBytes <= partBytes, `server holds ${stalledView.pendingBytes} bytes for it: at most one part`);
    assert.ok(stalledView.framesSent < pushes / 2, `it was sent only ${stalledView.framesSent} frames`);
    // Live viewers keep up. Not "skipped no frame": on a busy machine this very process (server
    // and viewers in one) may stall past a frame, and a skip then is right. A stalled viewer
    // that held the others back would cost them most of the 200.
    for (const client of live) {
      const seqs = client.parts.map((p) => p.seq);
      const gaps = seqs.filter((s, i) => i > 0 && s !== seqs[i - 1]! + 1).length;
      assert.ok(gaps <= pushes / 20, `a live viewer skipped ${gaps} of ${pushes} frames`);
    }
    const liveViews = views.filter((v) => v !== stalledView);
    assert.ok(liveViews.every((v) => v.framesDropped <= pushes / 20), JSON.stringify(liveViews));
  });

  test('a viewer whose socket takes nothing for sendTimeoutMs is cut, freeing its slot; the live viewer carries on', async (t) => {
    const source = push();
    const said: string[] = [];
    const logger = { debug() {}, info: (m: string) => said.push(m), warn() {}, error() {} };
    const { server, url, port } = await start(t, { source, maxViewers: 2, sendTimeoutMs: 400, logger });
    const live = watch(t, `${url}stream.mjpg`);
    await live.response;
    const stalled = openStalledViewer(port, '/stream.mjpg');
    t.after(() => stalled.kill());
    await stalled.connected;
    await until(() => server.live.viewerCount === 2, 'both viewers to be counted');
    assert.equal((await fetchBuffer(`${url}stream.mjpg`)).status, 503, 'no slot left while the stalled viewer holds one');
    // Frames the stalled socket cannot take, until the server gives up on it (bounded).
    const big = await noisyJpeg(320, 240);
    const sentBytes = async () => Number(/^camcast_streams_sent_bytes_total (\d+)$/m.exec((await fetchBuffer(`${url}metrics`)).body.toString())?.[1]);
    let sentWhileStalled = 0;
    for (let i = 0; i < 500 && server.live.viewerCount === 2; i++) {
      source.push(big);
      await delay(10);
      // Read while the stalled socket still buffers a part, which its destruction forgets.
      if (i === 10) sentWhileStalled = await sentBytes();
    }
    assert.equal(server.live.viewerCount, 1, 'the stalled viewer was cut');
    assert.ok(said.some((m) => /^viewer \d+ \(127\.0\.0\.1\) cut: its connection took nothing for 0\.4 s$/.test(m)), said.join('\n'));
    const metrics = (await fetchBuffer(`${url}metrics`)).body.toString();
    assert.match(metrics, /^camcast_streams_timed_out_total 1$/m, 'the cut is counted');
    assert.match(metrics, /^camcast_streams_refused_total 1$/m);
    assert.ok(sentWhileStalled > 0 && (await sentBytes()) >= sentWhileStalled, 'the bytes counter never goes down');
    const before = live.parts.length;
    source.push(big);
    await live.waitForParts(before + 1);
    const next = watch(t, `${url}stream.mjpg`);
    assert.equal((await next.response).statusCode, 200, 'its slot is free again');
  });

  test('GET /snapshot.jpg on an idle source starts capture and returns one fresh JPEG', async (t) => {
    const { url, server } = await start(t, { source: testPattern({ width: 96, height: 64, fps: 20 }) });
    assert.equal(server.broadcaster.state, 'stopped');
    const res = await fetchBuffer(`${url}snapshot.jpg`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.equal(Number(res.headers['content-length']), res.body.length);
    const meta = await sharp(res.body).metadata();
    assert.equal(meta.width, 96);
    assert.ok(Math.abs(Number(res.headers['x-timestamp']) * 1000 - Date.now()) < 5000, 'fresh frame');
    const head = await fetchBuffer(`${url}snapshot.jpg`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.ok(Number(head.headers['content-length']) > 0);
  });

  test('GET /snapshot.jpg answers 503 with the reason when the source cannot start', async (t) => {
    const source = new FakeSource();
    source.startError = new Error('camera unplugged');
    const { url } = await start(t, { source, snapshotTimeoutMs: 300, restartDelaysMs: [10_000] });
    const res = await fetchBuffer(`${url}snapshot.jpg`);
    assert.equal(res.status, 503);
    // The first attempt fails at once and the next is 10 s away: no need to wait out the 0.3 s.
    assert.match(res.body.toString(), /^camcast: no picture: camera unplugged; the next attempt is in (9|10) s$/m);
    // Asking again before the next attempt, 10 s after the failure, would get the same answer.
    assert.match(res.headers['retry-after']!, /^(9|10)$/);
  });

  test('GET /snapshot.jpg on a source already failed answers 503 at once when its next attempt is beyond the wait', async (t) => {
    const source = new FakeSource();
    source.startError = new Error('camera unplugged');
    const { url, server } = await start(t, { source, snapshotTimeoutMs: 5000, restartDelaysMs: [30_000] });
    // A viewer starts the capture, which fails; the next attempt is 30 s away.
    const watcher = watch(t, `${url}stream.mjpg`);
    await until(() => server.broadcaster.state === 'retrying', 'the source to fail');
    const res = await fetchBuffer(`${url}snapshot.jpg`);
    assert.equal(res.status, 503);
    assert.match(res.body.toString(), /^camcast: no picture: camera unplugged; the next attempt is in (29|30) s/);
    assert.match(res.headers['retry-after']!, /^(29|30)$/);
    watcher.destroy();
  });

  test('snapshots answered at once for a failed source still count as brief viewers, keeping its backoff', async (t) => {
    const source = new FakeSource();
    source.startError = new Error('camera unplugged');
    const { url, server } = await start(t, { source, snapshotTimeoutMs: 5000, restartDelaysMs: [30_000], idleTimeoutMs: 300 });
    const watcher = watch(t, `${url}stream.mjpg`);
    await until(() => server.broadcaster.state === 'retrying', 'the source to fail');
    watcher.destroy();
    await until(() => server.live.viewerCount === 0, 'the viewer to leave');
    // Snapshots every 100 ms, each inside the 300 ms linger: the capture is never stopped, so
    // the source is not started again from its first delay.
    for (let i = 0; i < 8; i++) {
      assert.equal((await fetchBuffer(`${url}snapshot.jpg`)).status, 503);
      await delay(100);
    }
    assert.equal(server.broadcaster.state, 'retrying');
    assert.equal(source.starts, 1);
  });

  test('a client that only polls snapshots keeps a live capture running: it is not stopped and restarted every idle timeout', async (t) => {
    const source = new FakeSource();
    const { url, server } = await start(t, { source, idleTimeoutMs: 300 });
    const first = fetchBuffer(`${url}snapshot.jpg`);
    await until(() => source.running, 'the capture to start');
    source.emit();
    assert.equal((await first).status, 200);
    // Polled every 100 ms for well over the 300 ms linger; every answer comes from the running capture.
    for (let i = 0; i < 8; i++) {
      source.emit();
      assert.equal((await fetchBuffer(`${url}snapshot.jpg`)).status, 200);
      await delay(100);
    }
    assert.equal(source.starts, 1, 'started once');
    assert.equal(source.stops, 0, 'never stopped');
    assert.equal(server.broadcaster.state, 'live');
    // Once the polling stops, the linger runs out as after a viewer.
    await until(() => !source.running, 'the capture to stop after the linger', 3000);
  });

  test('GET /api/status counts viewers and reports the source', async (t) => {
    const { url } = await start(t, { source: testPattern({ width: 64, height: 48, fps: 30 }) });
    const before = await status(url);
    assert.equal(before.viewers.count, 0);
    assert.equal(before.source.state, 'stopped');
    const a = watch(t, `${url}stream.mjpg?cid=page-1`);
    const b = watch(t, `${url}video_feed?cache=123`);
    await Promise.all([a.waitForParts(5), b.waitForParts(5)]);
    const during = await status(url);
    assert.equal(during.viewers.count, 2);
    assert.equal(during.source.state, 'live');
    assert.equal(during.source.kind, 'test');
    assert.deepEqual(during.resolution, { width: 64, height: 48 });
    assert.ok(during.frames >= 5);
    assert.ok(during.fps > 0);
    assert.ok(during.viewers.list.some((v: any) => v.client === 'page-1'));
    a.destroy();
    b.destroy();
    let after = await status(url);
    for (let i = 0; i < 100 && after.viewers.count !== 0; i++) {
      await delay(20);
      after = await status(url);
    }
    assert.equal(after.viewers.count, 0, 'disconnected viewers are forgotten');
  });

  test('capture stops after the idle timeout and restarts with the next viewer', async (t) => {
    const source = new FakeSource();
    const { url, server } = await start(t, { source, idleTimeoutMs: 150 });
    const first = watch(t, `${url}stream.mjpg`);
    await first.response;
    await until(() => source.running, 'capture started by the first viewer');
    first.destroy();
    await until(() => !source.running, 'capture stopped after the idle timeout');
    assert.equal(server.broadcaster.state, 'stopped');
    const second = watch(t, `${url}stream.mjpg`);
    await second.response;
    await until(() => source.running, 'capture restarted by the next viewer');
    assert.equal(source.starts, 2);
    source.emit();
    await second.waitForParts(1);
  });

  test('unknown paths get 404, wrong methods 405 with Allow, HEAD and OPTIONS work', async (t) => {
    const { url } = await start(t, { source: new FakeSource() });
    const missing = await fetchBuffer(`${url}nope`);
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString(), /no such path \/nope/);
    const post = await fetchBuffer(`${url}stream.mjpg`, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD, OPTIONS');
    const page = await fetchBuffer(`${url}?ts=1`);
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /<img id="video"/);
    assert.doesNotMatch(page.body.toString(), /(src|href)="\//, 'relative URLs only');
    const headPage = await fetchBuffer(url, 'HEAD');
    assert.equal(headPage.body.length, 0);
    const headStream = await fetchBuffer(`${url}stream.mjpg`, 'HEAD');
    assert.equal(headStream.status, 200);
    assert.match(headStream.headers['content-type']!, /multipart\/x-mixed-replace/);
    const options = await fetchBuffer(`${url}stream.mjpg`, 'OPTIONS');
    assert.equal(options.status, 204);
    assert.equal(options.headers.allow, 'GET, HEAD, OPTIONS');
  });

  test('mjpg-streamer style /?action=stream and /?action=snapshot are served', async (t) => {
    const { url } = await start(t, { source: testPattern({ width: 64, height: 48 }) });
    const stream = watch(t, `${url}?action=stream`);
    await stream.waitForParts(2);
    const snap = await fetchBuffer(`${url}?action=snapshot`);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
  });

  test('--max-viewers: the next viewer gets 503 with Retry-After, the others keep streaming', async (t) => {
    const { url } = await start(t, { source: testPattern({ width: 64, height: 48 }), maxViewers: 1 });
    const first = watch(t, `${url}stream.mjpg`);
    await first.waitForParts(1);
    const refused = await fetchBuffer(`${url}stream.mjpg`);
    assert.equal(refused.status, 503);
    assert.ok(refused.headers['retry-after']);
    const before = first.parts.length;
    await first.waitForParts(before + 3);
  });

  test('listen() on a port in use rejects with PORT_IN_USE and a hint', async (t) => {
    const blocker = net.createServer();
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const server = createServer({ source: new FakeSource(), host: '127.0.0.1', port });
    t.after(() => server.close());
    await assert.rejects(server.listen(), (error: unknown) => {
      assert.ok(isCamcastError(error, 'PORT_IN_USE'));
      assert.match(error.message, new RegExp(`port ${port} on 127.0.0.1 is already in use: stop the program using it or pick another port$`));
      return true;
    });
  });

  test('listen() again after PORT_IN_USE listens once the port is free; calls while listening share one result', async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const server = createServer({ source: new FakeSource(), host: '127.0.0.1', port });
    t.after(() => server.close());
    await assert.rejects(server.listen(), (error: unknown) => isCamcastError(error, 'PORT_IN_USE'));
    await new Promise<void>((r) => blocker.close(() => r()));
    const pending = server.listen();
    assert.equal(server.listen(), pending, 'a call while listening starts shares that attempt');
    const address = await pending;
    assert.equal(address.port, port);
    assert.equal(await server.listen(), address, 'a call once listening gets the same address');
    assert.ok(await canConnect(port));
    await server.close();
    await assert.rejects(server.listen(), (error: unknown) => isCamcastError(error, 'CLOSED'));
  });

  test('close() ends open streams, stops the source, and is idempotent', async (t) => {
    const source = new FakeSource();
    const { url, server } = await start(t, { source });
    const client = watch(t, `${url}stream.mjpg`);
    await client.response;
    await until(() => source.running, 'start');
    await Promise.all([server.close(), server.close()]);
    await client.closed;
    assert.equal(client.sawCloseDelimiter(), true, 'each stream ended cleanly, not cut');
    assert.equal(source.running, false);
    await assert.rejects(fetchBuffer(url), /ECONNREFUSED/);
  });

  test("a browser's <img> (Sec-Fetch-Dest: image) gets each next part's headers right after a frame; ?advance_headers overrides", async (t) => {
    const source = push();
    const { url } = await start(t, { source });
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#c33' } }).jpeg().toBuffer();
    const browser = watch(t, `${url}stream.mjpg`, { 'Sec-Fetch-Dest': 'image' });
    const forcedOff = watch(t, `${url}stream.mjpg?advance_headers=0`, { 'Sec-Fetch-Dest': 'image' });
    const forcedOn = watch(t, `${url}?action=stream&advance_headers=1`);
    const tool = watch(t, `${url}stream.mjpg`);
    await Promise.all([browser, forcedOff, forcedOn, tool].map((c) => c.response));
    source.push(jpeg);
    for (const [client, advance] of [[browser, true], [forcedOff, false], [forcedOn, true], [tool, false]] as const) {
      const [part] = await client.waitForParts(1);
      assert.deepEqual(part!.body, jpeg);
      if (advance) assert.deepEqual(part!.headers, { 'content-type': 'image/jpeg' }, 'the headers went out before the frame was known');
      else assert.equal(Number(part!.headers['content-length']), jpeg.length);
    }
  });

  test('close() lets a viewer that is still reading take its last part and the closing delimiter', async (t) => {
    const source = push();
    const { server, port } = await start(t, { source });
    // Bigger than the kernel's send buffer (4 MiB at most here): part of it waits in Node.
    const big = await noisyJpeg(2600, 2000);
    const reading = lateReader(t, port, '/stream.mjpg', 0.3);
    await until(() => server.live.viewerCount === 1, 'the reader to connect');
    source.push(big);
    await until(() => server.live.viewers()[0]!.framesSent === 1, 'the part to be in flight');
    const closing = server.close();
    const { bytes, tail } = await reading;
    await closing;
    assert.ok(bytes > big.length, `the whole part arrived (${bytes} bytes)`);
    assert.ok(tail.endsWith('\r\n--camcastframe--\r\n'), `the body ends with the closing delimiter: ${JSON.stringify(tail)}`);
  });

  test('when the source ends (file played once) the stream responses end with the close delimiter', async (t) => {
    const source = new FakeSource();
    const { url } = await start(t, { source });
    const client = watch(t, `${url}stream.mjpg`);
    await client.response;
    await until(() => source.running, 'start');
    source.emit();
    await client.waitForParts(1);
    source.end();
    await client.closed;
    assert.equal(client.sawCloseDelimiter(), true, 'the body ends as RFC 2046 says');
    assert.equal(client.parts.length, 1, 'and the ending is no picture');
    const s = await status(url);
    assert.equal(s.source.state, 'ended');
  });
});

describe('StreamServer edge cases', () => {
  test('bad options are one BAD_OPTION naming the option, before anything starts', () => {
    const source = new FakeSource();
    const bad: Array<[StreamServerOptions, RegExp]> = [
      [{ port: 99999 }, /^port must be a whole number from 0 to 65535 \(got 99999\)$/],
      [{ port: -1 }, /^port must be/],
      [{ port: 1.5 }, /^port must be a whole number/],
      [{ port: 'abc' as unknown as number }, /^port must be .*\(got 'abc'\)$/],
      [{ port: '8080' as unknown as number }, /^port must be a whole number, not the string '8080': convert it, e\.g\. Number\(process\.env\.PORT\)$/],
      [{ stallTimeoutMs: 1e10 }, /^stallTimeoutMs must be a number from 0 to 2147483647/],
      [{ idleTimeoutMs: 2 ** 31 }, /^idleTimeoutMs must be/],
      [{ cors: 123 as unknown as string }, /^cors must be a string/],
      [{ auth: 'admin:x' as unknown as { username: string; password: string } }, /^auth must be \{ username, password \}/],
      [{ auth: { username: 'a' } as unknown as { username: string; password: string } }, /^auth\.password must be a non-empty string/],
      [{ auth: { username: '', password: 'x' } }, /^auth\.username must be a non-empty string/],
      [{ auth: { username: 'a:b', password: 'x' } }, /auth\.username cannot contain ":"/],
      // A token must be one that can match: '+' in ?token= arrives as a space, Bearer is trimmed.
      [{ token: '' }, /^token must be 8 to 256 characters of A-Z a-z 0-9 \. _ ~ - \(e\.g\. from: openssl rand -hex 16\)$/],
      [{ token: 'abc' }, /^token must be 8 to 256 characters/],
      [{ token: 'secret+token' }, /^token must be 8 to 256 characters/],
      [{ token: ' padded token ' }, /^token must be 8 to 256 characters/],
      [{ tls: {} as unknown as { cert: string; key: string } }, /^tls must be \{ cert, key \}, each PEM as a non-empty string or Buffer, .*\(cert and key are not\)$/],
      [{ tls: { cert: 'x' } as unknown as { cert: string; key: string } }, /^tls must be .*\(key is not\)$/],
      [{ source: 42 as unknown as string }, /^source must be a Source \(an object with start\(\) and stop\(\)\) or a source spec string such as 'test', '\/dev\/video0', 'clip\.mp4' or a URL \(got 42\)$/],
      [{ source: {} as unknown as string }, /^source must be a Source .*\(got an object\)$/],
      [{ source: null as unknown as string }, /^source must be a Source .*\(got null\)$/],
      [{ logger: {} as unknown as StreamServerOptions['logger'] }, /^logger must have debug, info, warn and error functions/],
      [{ snapshotTimeoutMs: 0 }, /^snapshotTimeoutMs must be a number from 1 to/],
      [{ restartDelaysMs: [0] }, /^each of restartDelaysMs must be a number from 1 to/],
      [{ cors: 'not an origin' }, /^cors must be \* or an origin/],
      [{ maxViewers: -3 }, /^maxViewers must be a whole number from 0/],
      [{ idleTimeoutMs: -1 }, /^idleTimeoutMs must be a number from 0/],
      [{ stallTimeoutMs: Number.NaN }, /^stallTimeoutMs must be/],
      [{ restartDelaysMs: [] }, /^restartDelaysMs must be a non-empty list/],
      [{ restartDelaysMs: [1000, -1] }, /^each of restartDelaysMs must be/],
    ];
    for (const [options, message] of bad) {
      assert.throws(
        () => createServer({ source, ...options }),
        (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message),
        JSON.stringify(options),
      );
    }
    assert.equal(source.starts, 0);
    // null, like undefined, leaves them off.
    const off = createServer({ source, cors: null, auth: null, token: null, tls: null } as unknown as StreamServerOptions);
    assert.ok(off instanceof Object);
  });

  test('createServer({ cors: [...] }) refuses an empty list, * among origins, a bad member and a comma string, naming each', () => {
    const source = new FakeSource();
    const bad: Array<[StreamServerOptions['cors'], RegExp]> = [
      [[], /^cors must list at least one origin, e\.g\. \['https:\/\/dash\.example:8123'\], or be '\*' for any; to send no CORS headers, leave it out$/],
      [['*', 'https://a.example'], /^cors takes \* alone \(any origin\) or a list of origins without \* \(got '\*,https:\/\/a\.example'\)$/],
      [['https://a.example', 'https://a.example/path'], /^each of cors must be \* or an origin .*\(got 'https:\/\/a\.example\/path'\)$/],
      [['https://a.example', 42 as unknown as string], /^each of cors must be a string: .*\(got 42\)$/],
      ['https://a.example,http://b.local', /^cors takes one origin per string; for several, pass an array, e\.g\. .*\(got 'https:\/\/a\.example,http:\/\/b\.local'\)$/],
      [{ origin: 'https://a.example' } as unknown as string, /^cors must be a string: \* or an origin such as https:\/\/dash\.example:8123, or an array of origins \(got an object\)$/],
    ];
    for (const [cors, message] of bad) {
      assert.throws(
        () => createServer({ source, cors }),
        (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message) && !e.message.includes('\n'),
        JSON.stringify(cors),
      );
    }
    assert.equal(source.starts, 0);
    // Repeats once normalised are accepted (security.test.ts shows that they collapse).
    assert.doesNotThrow(() => createServer({ source, cors: ['https://a.example', 'HTTPS://a.example:443/', 'http://b.local:8123'] }));
  });

  test('options the chosen source does not read are checked all the same', () => {
    // The default test pattern reads none of these; each would lie in wait for another source.
    const bad: Array<[StreamServerOptions, RegExp]> = [
      [{ startTimeoutMs: -1 }, /^startTimeoutMs must be a number from 1 to 2147483647 \(got -1\)$/],
      [{ loop: 'false' as unknown as boolean }, /^loop must be true or false \(got 'false'\)$/],
      [{ insecure: 1 as unknown as boolean }, /^insecure must be true or false \(got 1\)$/],
      [{ ffmpegPath: '' }, /^ffmpegPath must be a non-empty string/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createServer(options), (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message), JSON.stringify(options));
      assert.throws(() => createServer({ source: new FakeSource(), ...options }), (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message), JSON.stringify(options));
    }
  });

  test('createServer() given something else than an options object says what it takes', () => {
    for (const given of ['test', null, 8080]) {
      assert.throws(
        () => createServer(given as unknown as StreamServerOptions),
        (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /^createServer\(\) takes an options object, e\.g\. createServer\(\{ source: 'test' \}\) \(got .+\)$/.test(e.message),
        String(given),
      );
    }
  });

  test('a source that feeds one server is refused by a second, and free again once the first has closed', async (t) => {
    const source = push();
    const first = createServer({ source, host: '127.0.0.1', port: 0 });
    t.after(() => first.close());
    assert.throws(
      () => createServer({ source, host: '127.0.0.1', port: 0 }),
      (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /^this source \(pushed frames\) already feeds another stream: mount that stream's handlers in both places, create a second source, or close the other stream first$/.test(e.message),
    );
    await first.close();
    const second = createServer({ source, host: '127.0.0.1', port: 0 });
    t.after(() => second.close());
    const { url } = await second.listen();
    const client = watch(t, `${url}stream.mjpg`);
    await client.response;
    await until(() => source.push(minimalJpeg(1)) && client.parts.length > 0, 'a pushed frame through the second server');
  });

  test('runs of slashes are one slash, and an unknown ?action= says which actions exist', async (t) => {
    const { url } = await start(t, { source: testPattern({ width: 64, height: 48 }) });
    const stream = watch(t, `${url}/stream.mjpg`);
    await stream.waitForParts(1);
    const snap = await fetchBuffer(`${url}/api//frame.jpeg`);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    const action = await fetchBuffer(`${url}?action=bogus`);
    assert.equal(action.status, 404);
    assert.match(action.body.toString(), /no such action 'bogus'; use \/\?action=stream or \/\?action=snapshot/);
  });

  test('close() while listen() is still resolving its host leaves no listening socket', async () => {
    const server = createServer({ source: new FakeSource(), host: 'localhost', port: 0 });
    const listening = server.listen();
    await server.close();
    await assert.rejects(listening, (error: unknown) => isCamcastError(error, 'CLOSED'));
    assert.equal(server.address === undefined || !(await canConnect(server.address.port)), true);
  });

  test('with idleTimeoutMs 0 capture starts at listen(), and a rejected certificate starts none', async (t) => {
    const source = new FakeSource();
    assert.throws(() => createServer({ source, idleTimeoutMs: 0, tls: { cert: 'x', key: 'y' } }), (e: unknown) => isCamcastError(e, 'BAD_OPTION'));
    const server = createServer({ source, host: '127.0.0.1', port: 0, idleTimeoutMs: 0 });
    t.after(() => server.close());
    await delay(50);
    assert.equal(source.starts, 0, 'nothing captured before listen()');
    await server.listen();
    await until(() => source.running, 'capture started by listen()');
  });

  test('a stream request after the broadcaster closed gets 503 and is not counted', async (t) => {
    const { url, server } = await start(t, { source: new FakeSource() });
    await server.broadcaster.close();
    const res = await fetchBuffer(`${url}stream.mjpg`);
    assert.equal(res.status, 503);
    assert.equal(server.live.viewerCount, 0);
    await server.close();
  });

  test('a malformed request behind a stream on the same socket cuts that socket, never writes into the stream', async (t) => {
    const { port } = await start(t, { source: testPattern({ width: 64, height: 48, fps: 20 }) });
    const socket = net.connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.write('GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => text.includes('Content-Type: image/jpeg'), 'the stream to start');
    socket.write('BLAH \x00\x01\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.equal(text.indexOf('HTTP/1.1 400'), -1, 'no 400 inside the multipart body');
  });
});

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function noisyJpeg(width: number, height: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
}
