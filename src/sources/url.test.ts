import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { isCamcastError } from '../errors.js';
import { url } from './url.js';
import { frameCollector } from '../testing/frame-collector.js';
import { until } from '../testing/fake-source.js';

const FFMPEG = '/usr/bin/ffmpeg';
/** Passed where the relay must work without ffmpeg: using it would fail to start. */
const NO_FFMPEG = '/nonexistent/ffmpeg';

const jpegs = await Promise.all(
  ['red', 'green', 'blue', 'white', 'black'].map((background) =>
    sharp({ create: { width: 48, height: 32, channels: 3, background } }).jpeg().toBuffer(),
  ),
);

type TestContext = { after: (fn: () => unknown) => void };

/** An HTTP server on 127.0.0.1, port 0, closed (with its connections) after the test. */
async function serve(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, requests };
}

function multipartHead(res: ServerResponse, boundary = 'frame'): void {
  res.writeHead(200, { 'content-type': `multipart/x-mixed-replace; boundary=${boundary}`, 'cache-control': 'no-cache' });
}

function part(jpeg: Buffer, { length = true, eol = '\r\n', dashes = '--' } = {}): Buffer {
  const headers = [`${dashes}frame`, 'Content-Type: image/jpeg', ...(length ? [`Content-Length: ${jpeg.length}`] : [])];
  return Buffer.concat([Buffer.from(headers.join(eol) + eol + eol), jpeg, Buffer.from(eol)]);
}

function countTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}



/** Serves every JPEG as one part, `gapMs` apart, then destroys the socket (the upstream dies). */
async function sendThenDie(res: ServerResponse, options: Parameters<typeof part>[1], gapMs = 20): Promise<void> {
  multipartHead(res);
  for (const jpeg of jpegs) {
    if (res.destroyed) return;
    res.write(part(jpeg, options));
    await sleep(gapMs);
  }
  res.destroy();
}

for (const [name, options] of [
  ['with Content-Length', {}],
  ['without Content-Length, LF only, no leading dashes', { length: false, eol: '\n', dashes: '' }],
] as const) {
  test(`url().start() relays a multipart MJPEG upstream ${name} byte for byte, then sink.failed() when it dies`, async (t) => {
    const { base } = await serve(t, (_req, res) => void sendThenDie(res, options));
    const source = url({ url: `${base}/stream.mjpg`, ffmpegPath: NO_FFMPEG });
    t.after(() => source.stop());
    const { sink, frames, failed, ended } = frameCollector();
    await source.start(sink);
    await until(() => failed.length > 0, 'sink.failed()', 5000);
    // Without Content-Length a part ends at the next delimiter, which the last part never gets.
    const expected = 'length' in options && options.length === false ? jpegs.length - 1 : jpegs.length;
    assert.equal(frames.length, expected);
    frames.forEach((frame, i) => assert.ok(frame.jpeg.equals(jpegs[i]!), `frame ${i} is the upstream's JPEG`));
    assert.deepEqual([frames[0]!.width, frames[0]!.height], [48, 32]);
    assert.equal(failed.length, 1);
    assert.ok(isCamcastError(failed[0], 'SOURCE_FAILED'), String(failed[0]));
    assert.match(failed[0]!.message, /^http:\/\/127\.0\.0\.1:\d+\/stream\.mjpg: the upstream/);
    assert.equal(ended(), 0);
  });
}

test('url() relaying MJPEG with a size, quality or rate asked warns once that they are not applied', async (t) => {
  let streaming = 0;
  const { base } = await serve(t, (req, res) => {
    multipartHead(res);
    streaming++;
    const timer = setInterval(() => res.write(part(jpegs[0]!)), 20);
    req.on('close', () => {
      clearInterval(timer);
      streaming--;
    });
  });
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
  const source = url({ url: base, ffmpegPath: NO_FFMPEG, width: 320, height: 240, quality: 50, fps: 5, logger });
  t.after(() => source.stop());
  const { sink, frames } = frameCollector();
  await source.start(sink);
  await until(() => frames.length >= 1, 'a frame', 5000);
  await source.stop();
  await source.start(sink);
  await source.stop();
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /relayed untouched: the asked size, quality and frame rate are not applied/);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [48, 32], 'the upstream picture as it is');
  const quiet: string[] = [];
  const plain = url({ url: base, ffmpegPath: NO_FFMPEG, logger: { ...logger, warn: (m: string) => quiet.push(m) } });
  t.after(() => plain.stop());
  await plain.start(frameCollector().sink);
  await plain.stop();
  assert.deepEqual(quiet, []);
  await until(() => streaming === 0, 'the upstream to see every request closed', 5000);
});

test('url().stop() aborts the relayed request and no frame follows', async (t) => {
  let closed = false;
  const { base } = await serve(t, (req, res) => {
    multipartHead(res);
    const timer = setInterval(() => res.write(part(jpegs[0]!)), 20);
    req.on('close', () => {
      clearInterval(timer);
      closed = true;
    });
  });
  const source = url({ url: base, ffmpegPath: NO_FFMPEG });
  t.after(() => source.stop());
  const { sink, frames, failed } = frameCollector();
  const timersBefore = countTimers();
  await source.start(sink);
  await until(() => frames.length >= 3, '3 frames', 5000);
  await source.stop();
  await until(() => closed, 'the server to see the request closed', 5000);
  assert.equal(countTimers(), timersBefore, 'no timers left behind');
  const count = frames.length;
  await sleep(100);
  assert.equal(frames.length, count);
  assert.deepEqual(failed, [], 'a requested stop is not a failure');
  await source.stop(); // idempotent
});

test('url().start() reports SOURCE_STALLED when the upstream stops sending but keeps the socket open', async (t) => {
  const { base } = await serve(t, (_req, res) => {
    multipartHead(res);
    res.write(part(jpegs[0]!));
    res.write(part(jpegs[1]!));
  });
  const source = url({ url: base, ffmpegPath: NO_FFMPEG, stallTimeoutMs: 300 });
  t.after(() => source.stop());
  const { sink, failed } = frameCollector();
  await source.start(sink);
  await until(() => failed.length > 0, 'sink.failed()', 5000);
  assert.ok(isCamcastError(failed[0], 'SOURCE_STALLED'), String(failed[0]));
  assert.match(failed[0]!.message, /no frame for 0.3 s/);
});

test('url().start() rejects SOURCE_START_FAILED when no frame comes in time or the upstream closes first', async (t) => {
  const { base } = await serve(t, (req, res) => {
    multipartHead(res);
    res.write('--frame\r\nContent-Type: image/jpeg\r\n'); // headers of a part that never comes
    if (req.url === '/dies') setTimeout(() => res.destroy(), 50);
  });
  const silent = url({ url: `${base}/silent`, ffmpegPath: NO_FFMPEG, startTimeoutMs: 300 });
  t.after(() => silent.stop());
  await assert.rejects(silent.start(frameCollector().sink), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && /no frame within 0.3 s/.test(err.message),
  );
  const dying = url({ url: `${base}/dies`, ffmpegPath: NO_FFMPEG });
  t.after(() => dying.stop());
  await assert.rejects(dying.start(frameCollector().sink), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && /upstream/.test(err.message),
  );
});

test('url().start() rejects with the HTTP status; check() calls a 404 SOURCE_NOT_FOUND', async (t) => {
  const { base } = await serve(t, (req, res) => {
    res.writeHead(req.url === '/private' ? 401 : req.url === '/forbidden' ? 403 : 404).end('no');
  });
  const missing = url({ url: `${base}/missing`, ffmpegPath: NO_FFMPEG });
  t.after(() => missing.stop());
  await assert.rejects(missing.start(frameCollector().sink), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && err.message.endsWith("/missing answered HTTP 404 Not Found: check the path (the camera's manual or web page gives its MJPEG stream or snapshot URL)"),
  );
  await assert.rejects(missing.check!(), (err: unknown) => isCamcastError(err, 'SOURCE_NOT_FOUND'));
  await assert.rejects(url({ url: `${base}/private` }).check!(), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && /401 Unauthorized: it wants a user name and password; put them in the URL, as user:password@ before the host$/.test(err.message),
  );
  // Credentials given and refused: the hint says to check them, not to add them.
  const withCredentials = `${base.replace('://', '://admin:wrong-pass@')}/private`;
  await assert.rejects(url({ url: withCredentials }).check!(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'));
    assert.match(err.message, /^http:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/private answered HTTP 401 Unauthorized: it refused the user name and password in the URL; check them$/);
    return true;
  });
  await assert.rejects(url({ url: withCredentials.replace('/private', '/forbidden') }).check!(), /403 Forbidden: it refuses this user access to that path; check the path and the account's rights/);
});

test('url().start() polls a still-image URL (image/jpeg) at the asked rate, one request at a time', async (t) => {
  let served = 0;
  const { base, requests } = await serve(t, (_req, res) => {
    const jpeg = jpegs[served++ % jpegs.length]!;
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
  });
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
  const source = url({ url: `${base}/snapshot.jpg`, ffmpegPath: '/nonexistent/ffmpeg', fps: 10, quality: 50, logger });
  t.after(() => source.stop());
  const { sink, frames, failed, ended } = frameCollector();
  await source.start(sink);
  await until(() => frames.length >= 5, 'five polled pictures', 10_000);
  assert.equal(warnings.length, 1);
  // The rate is the poller's own (fps: 10): only the quality goes unapplied.
  assert.match(warnings[0]!, /is a still image, polled and passed on untouched: the asked quality is not applied/);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [48, 32]);
  assert.ok(new Set(frames.map((f) => f.jpeg.toString('base64'))).size >= 2, 'new pictures, not the first one repeated');
  assert.deepEqual(failed, []);
  assert.equal(ended(), 0);
  await source.stop();
  const after = requests.length;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(requests.length, after, 'no polling after stop()');
});

test('url() polling a still image that starts failing reports sink.failed()', async (t) => {
  let served = 0;
  const { base } = await serve(t, (_req, res) => {
    if (served++ < 2) res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpegs[0]!.length }).end(jpegs[0]);
    else res.writeHead(500).end();
  });
  const source = url({ url: `${base}/snapshot.jpg`, fps: 20 });
  t.after(() => source.stop());
  const { sink, failed } = frameCollector();
  await source.start(sink);
  await until(() => failed.length > 0, 'sink.failed()', 10_000);
  assert.match(String(failed[0]), /HTTP 500/);
});

/** A camera that answers a still-image GET with its headers and a few bytes, then nothing. */
async function stallingSnapshot(t: TestContext) {
  const closed: Array<Promise<void>> = [];
  let sentHead = 0;
  const { base } = await serve(t, (req, res) => {
    closed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpegs[0]!.length });
    res.write(jpegs[0]!.subarray(0, 10), () => sentHead++);
  });
  return { target: `${base}/snapshot.jpg`, closed, sentHead: () => sentHead };
}

test('url() fails start() when a still image stops after its headers, and lets go of the socket', async (t) => {
  const { target, closed } = await stallingSnapshot(t);
  const source = url({ url: target, startTimeoutMs: 300, ffmpegPath: NO_FFMPEG });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && err.message === `${target}: no picture within 0.3 s`,
  );
  assert.equal(closed.length, 1);
  await closed[0];
});

test('url().stop() while the first still-image answer stalls ends start() with CLOSED, not the timeout', async (t) => {
  const { target, closed, sentHead } = await stallingSnapshot(t);
  const source = url({ url: target, startTimeoutMs: 5000, ffmpegPath: NO_FFMPEG });
  t.after(() => source.stop());
  const starting = source.start(frameCollector().sink);
  starting.catch(() => {});
  await until(() => sentHead() === 1, 'the headers and the first bytes', 5000);
  await sleep(100); // the client has them and waits for the rest
  await source.stop();
  await assert.rejects(starting, (err: unknown) => isCamcastError(err, 'CLOSED'));
  await closed[0];
});

test('url().start() hands a Digest-protected URL with credentials to ffmpeg, which speaks Digest', async (t) => {
  const { base } = await serve(t, (_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Digest realm="cam", nonce="abc", qop="auth"' }).end();
  });
  const dir = await mkdtemp(join(tmpdir(), 'camcast-url-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Records its argv and streams a test pattern, standing in for an ffmpeg that did the Digest dance.
  const fake = join(dir, 'ffmpeg');
  await writeFile(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > '${dir}/argv'\nexec ${FFMPEG} -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=64x48:rate=30 -f mjpeg pipe:1\n`);
  await chmod(fake, 0o755);
  const withCredentials = `${base.replace('http://', 'http://admin:pw@')}/video.mjpg`;
  const source = url({ url: withCredentials, ffmpegPath: fake });
  t.after(() => source.stop());
  await source.check!();
  const { sink, frames } = frameCollector();
  await source.start(sink);
  assert.ok(frames.length >= 1);
  const argv = (await readFile(join(dir, 'argv'), 'utf8')).split('\n');
  assert.equal(argv[argv.indexOf('-i') + 1], withCredentials);
  await assert.rejects(url({ url: `${base}/video.mjpg` }).check!(), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && /401/.test(err.message),
  );
});

test('url().check() resolves for a reachable server and closes its request', async (t) => {
  let closed = false;
  const { base } = await serve(t, (req, res) => {
    multipartHead(res);
    res.write(part(jpegs[0]!));
    req.on('close', () => (closed = true));
  });
  await url({ url: base }).check!();
  await until(() => closed, 'the check request to be closed', 5000);
});

test('url().check() rejects SOURCE_NOT_FOUND for a refused port and a server that never answers', async (t) => {
  const { base: silentBase } = await serve(t, () => {}); // accepts, never answers
  // A port that was free a moment ago: nothing listens there now.
  const scratch = createServer();
  await new Promise<void>((resolve) => scratch.listen(0, '127.0.0.1', resolve));
  const freePort = (scratch.address() as AddressInfo).port;
  await new Promise((resolve) => scratch.close(resolve));
  const refused = `cannot reach http://127.0.0.1:${freePort}/: connect ECONNREFUSED 127.0.0.1:${freePort}: nothing listens there: check the address, the port and that the camera is on`;
  await assert.rejects(url({ url: `http://127.0.0.1:${freePort}/` }).check!(), (err: unknown) =>
    isCamcastError(err, 'SOURCE_NOT_FOUND') && err.message === refused,
  );
  const starting = url({ url: `http://127.0.0.1:${freePort}/`, ffmpegPath: NO_FFMPEG });
  t.after(() => starting.stop());
  await assert.rejects(starting.start(frameCollector().sink), (err: unknown) =>
    isCamcastError(err, 'SOURCE_START_FAILED') && err.message === refused,
  );
  await assert.rejects(url({ url: `rtsp://127.0.0.1:${freePort}/live`, ffmpegPath: FFMPEG }).check!(), (err: unknown) =>
    isCamcastError(err, 'SOURCE_NOT_FOUND') && err.message === refused.replace('http:', 'rtsp:').replace(/\/: /, '/live: '),
  );
  await assert.rejects(url({ url: silentBase, checkTimeoutMs: 300 }).check!(), (err: unknown) =>
    isCamcastError(err, 'SOURCE_NOT_FOUND') && err.message === `cannot reach ${silentBase}: no answer within 0.3 s: check the address and the network`,
  );
});

test('url() throws BAD_OPTION at once for an invalid URL or an unsupported scheme, as openSource() does', () => {
  for (const bad of ['not a url', 'ftp://example.com/x', 'file:///etc/passwd']) {
    assert.throws(() => url({ url: bad }), (err: unknown) => isCamcastError(err, 'BAD_OPTION'));
  }
  assert.throws(() => url({ url: 'ftp://admin:hunter2@x' }), (err: unknown) => {
    assert.ok(isCamcastError(err, 'BAD_OPTION'));
    assert.equal(err.message, 'unsupported URL scheme in ftp://admin:***@x: use rtsp://, rtsps://, http:// or https://');
    return true;
  });
});

test('url() hides the password in its description and keeps everything else', () => {
  assert.equal(url({ url: 'rtsp://admin:secret@cam.local:554/h264' }).description, 'rtsp://admin:***@cam.local:554/h264');
  assert.equal(url({ url: 'http://cam/video.mjpg' }).description, 'http://cam/video.mjpg');
  assert.equal(url({ url: 'http://cam/snap.cgi?usr=admin&pwd=s3cret' }).description, 'http://cam/snap.cgi?usr=admin&pwd=***');
});

test('url().check(signal) aborted while the server has not answered rejects at once with the reason and closes its socket', async (t) => {
  let closed = false;
  const { base } = await serve(t, (req) => req.on('close', () => (closed = true))); // accepts, never answers
  const abort = new AbortController();
  const reason = new Error('interrupted');
  setTimeout(() => abort.abort(reason), 100);
  const started = performance.now();
  await assert.rejects(url({ url: base, checkTimeoutMs: 10_000 }).check!(abort.signal), (err: unknown) => err === reason);
  assert.ok(performance.now() - started < 600, `settled after ${(performance.now() - started).toFixed(0)} ms`);
  await until(() => closed, 'the server to see the connection closed', 1000);
});

test('url().check(signal) on RTSP connects to nothing once the signal has aborted', async (t) => {
  let connections = 0;
  const server = createNetServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as AddressInfo;
  const source = url({ url: `rtsp://127.0.0.1:${port}/live`, ffmpegPath: FFMPEG });
  await assert.rejects(source.check!(AbortSignal.abort()), (err: unknown) => (err as Error).name === 'AbortError');
  await source.check!(new AbortController().signal); // a signal that never aborts changes nothing
  await until(() => connections >= 1, 'the connection of the second check', 1000);
  // Both checks have settled: a connection from the aborted one would make this 2.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(connections, 1, 'only the check that was not aborted connected');
});

test('url().check() and start() reject a web page, JSON, XML or text with SOURCE_START_FAILED, and say which URL to give', async (t) => {
  const { base } = await serve(t, (req, res) => {
    const type = new URL(req.url!, 'http://x').searchParams.get('type');
    res.writeHead(200, type ? { 'content-type': type } : {}).end('<html><body>Live view</body></html>');
  });
  for (const [type, what] of [
    ['text/html; charset=utf-8', 'text/html, a web page'],
    ['application/json', 'application/json, JSON data'],
    ['application/xml', 'application/xml, an XML document'],
    ['text/plain', 'text/plain, text'],
  ] as const) {
    const target = `${base}/index.cgi?type=${encodeURIComponent(type)}`;
    const said = `${target} answered ${what}, not video: give the camera's MJPEG stream or snapshot URL (its manual or web page lists it)`;
    const source = url({ url: target, ffmpegPath: NO_FFMPEG });
    t.after(() => source.stop());
    await assert.rejects(source.check!(), (err: unknown) => isCamcastError(err, 'SOURCE_START_FAILED') && err.message === said);
    // NO_FFMPEG: had it gone on to ffmpeg, the reason would be ffmpeg's absence.
    await assert.rejects(source.start(frameCollector().sink), (err: unknown) => isCamcastError(err, 'SOURCE_START_FAILED') && err.message === said);
  }
  for (const type of ['application/octet-stream', 'video/mp4', 'application/vnd.apple.mpegurl', 'application/x-mpegurl', 'image/png', '']) {
    await url({ url: `${base}/video?type=${encodeURIComponent(type)}` }).check!(); // ffmpeg's to try
  }
});

test('url().start() quotes ffmpeg\'s reason for an input that is no video naming the URL once, password masked', async (t) => {
  const { base } = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(4096, 7));
  });
  const target = `${base.replace('http://', 'http://admin:hunter2@')}/video`;
  const source = url({ url: target, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.ok(err.message.startsWith(`${source.description}: ffmpeg exited with code 1 before the first frame: `), err.message);
    assert.match(err.message, /Invalid data found when processing input/);
    assert.equal(err.message.split(base.replace('http://', '')).length - 1, 1, `the URL once in: ${err.message}`);
    assert.ok(!err.message.includes('hunter2'), err.message);
    return true;
  });
});

test('url() polling a still image whose camera goes away reports sink.failed() saying nothing listens there', async (t) => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpegs[0]!.length }).end(jpegs[0]);
    server.close(); // the next GET finds nothing listening
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve(undefined)));
  });
  const { port } = server.address() as AddressInfo;
  const target = `http://127.0.0.1:${port}/snapshot.jpg`;
  const source = url({ url: target, ffmpegPath: NO_FFMPEG, fps: 20 });
  t.after(() => source.stop());
  const { sink, frames, failed } = frameCollector();
  await source.start(sink);
  await until(() => failed.length > 0, 'sink.failed()', 10_000);
  assert.equal(frames.length, 1);
  assert.ok(isCamcastError(failed[0], 'SOURCE_FAILED'), String(failed[0]));
  assert.equal(failed[0]!.message, `${target}: connect ECONNREFUSED 127.0.0.1:${port}: nothing listens there: check the address, the port and that the camera is on`);
});
