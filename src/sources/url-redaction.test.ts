import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broadcaster } from '../broadcaster.js';
import { isCamcastError } from '../errors.js';
import { url } from './url.js';
import { frameCollector } from '../testing/frame-collector.js';
import { until } from '../testing/fake-source.js';

const FFMPEG = '/usr/bin/ffmpeg';

type TestContext = { after: (fn: () => unknown) => void };

/** An RTSP server on 127.0.0.1 that answers every request `401 Unauthorized`, as a camera does to a wrong password. */
async function rtsp401(t: TestContext): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (request) => {
      const cseq = /^CSeq:\s*(\d+)/im.exec(request.toString('latin1'))?.[1] ?? '1';
      socket.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="camera"\r\n\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}



/** Fails the test if `text` holds the password in any form; the masked form must be there. */
function assertMasked(text: string, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `"${secret}" leaked in: ${text}`);
  assert.match(text, /admin:\*\*\*@127\.0\.0\.1/);
}

test('url().start() on an RTSP camera answering 401 rejects with ffmpeg\'s reason and the password masked', async (t) => {
  const port = await rtsp401(t);
  const source = url({ url: `rtsp://admin:hunter2@127.0.0.1:${port}/live`, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  await source.check!(); // reachable: check() only connects
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.match(err.message, /401 Unauthorized/, 'ffmpeg\'s own words are kept');
    assertMasked(err.message, 'hunter2');
    assertMasked(err.stack ?? '', 'hunter2');
    return true;
  });
});

test('url().start() masks a percent-encoded password in both its forms', async (t) => {
  const port = await rtsp401(t);
  const source = url({ url: `rtsp://admin:hun%40ter2@127.0.0.1:${port}/live`, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assertMasked(err.message, 'hun%40ter2', 'hun@ter2', 'ter2');
    return true;
  });
});

test('a Broadcaster on an RTSP camera answering 401 keeps the password out of lastError, status() and nextFrame()', async (t) => {
  const port = await rtsp401(t);
  const source = url({ url: `rtsp://admin:hunter2@127.0.0.1:${port}/live`, ffmpegPath: FFMPEG });
  const broadcaster = new Broadcaster(source, { restartDelaysMs: [60_000] });
  t.after(() => broadcaster.close());
  // nextFrame() starts the capture; its NO_FRAME says why, as a 503 snapshot body does.
  const waiting = broadcaster.nextFrame({ timeoutMs: 8000 }).then(
    () => assert.fail('a 401 camera gave a frame'),
    (err: unknown) => err as Error,
  );
  await until(() => broadcaster.lastError !== undefined, 'the source to fail', 10_000);
  assertMasked(broadcaster.lastError!.message, 'hunter2');
  assertMasked(broadcaster.status().lastError ?? '', 'hunter2');
  await broadcaster.close();
  const snapshotError = await waiting;
  assert.ok(!snapshotError.message.includes('hunter2'), snapshotError.message);
});

test('url().start() on an HTTP upstream serving bytes ffmpeg cannot read lets ffmpeg fail and masks the password in its reason', async (t) => {
  // Not text/html: a web page is refused before ffmpeg runs (see url.test.ts).
  const server = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('<html><body>login</body></html>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  const source = url({ url: `http://admin:hunter2@127.0.0.1:${port}/`, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.match(err.message, /Invalid data found/);
    assertMasked(err.message, 'hunter2');
    return true;
  });
});

test('url() masks the password in a failure reported after the start, even where it appears decoded', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'camcast-redact-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Streams a few frames, then dies saying the URL and the bare password, as some builds log.
  const fake = join(dir, 'ffmpeg');
  await writeFile(fake, `#!/bin/sh
${FFMPEG} -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=64x48:rate=25 -frames:v 5 -f mjpeg pipe:1
for a in "$@"; do case "$a" in rtsp://*) echo "$a: Connection reset by peer" >&2;; esac; done
echo "auth: password 'p@ss word' no longer accepted" >&2
exit 1
`);
  await chmod(fake, 0o755);
  const source = url({ url: 'rtsp://admin:p%40ss%20word@127.0.0.1:9/live', ffmpegPath: fake });
  t.after(() => source.stop());
  const { sink, failed, frames } = frameCollector();
  await source.start(sink);
  await until(() => failed.length > 0, 'sink.failed()', 10_000);
  assert.ok(frames.length >= 1);
  assert.ok(isCamcastError(failed[0], 'SOURCE_FAILED'), String(failed[0]));
  assert.match(failed[0]!.message, /Connection reset by peer/);
  assertMasked(failed[0]!.message, 'p%40ss%20word', 'p@ss word');
});
