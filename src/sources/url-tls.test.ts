import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { isCamcastError } from '../errors.js';
import { selfSignedCertificate } from '../testing/self-signed.js';
import { url } from './url.js';
import { frameCollector } from '../testing/frame-collector.js';
import { until } from '../testing/fake-source.js';

/** Passed where no ffmpeg may be used: the relay and the poller need none. */
const NO_FFMPEG = '/nonexistent/ffmpeg';
const TRUST = 'if this is your camera, add --insecure (insecure: true in the API), or trust its certificate with NODE_EXTRA_CA_CERTS=cert.pem';

/** A self-signed certificate for 127.0.0.1, as an IP camera makes for itself. */
const tls = selfSignedCertificate();

const jpegs = await Promise.all(
  ['red', 'green', 'blue'].map((background) => sharp({ create: { width: 48, height: 32, channels: 3, background } }).jpeg().toBuffer()),
);

type TestContext = { after: (fn: () => unknown) => void };
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * An HTTPS server on 127.0.0.1, port 0, closed after the test; its https:// base URL. With
 * `plain` it speaks plain HTTP behind that same https:// URL, as a camera given the wrong scheme.
 */
async function serve(t: TestContext, handler: Handler, { plain = false } = {}): Promise<string> {
  const server = plain ? createHttpServer(handler) : createHttpsServer(tls, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Multipart MJPEG, a part every 20 ms, until the client goes. */
const streamMjpeg: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
  let i = 0;
  const timer = setInterval(() => {
    const jpeg = jpegs[i++ % jpegs.length]!;
    res.write(Buffer.concat([Buffer.from(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]));
  }, 20);
  req.on('close', () => clearInterval(timer));
};



test('url().check() and start() refuse a self-signed certificate saying what to do; with insecure: true its MJPEG is relayed', async (t) => {
  const target = `${await serve(t, streamMjpeg)}/stream.mjpg`;
  const said = `cannot reach ${target}: its certificate is not trusted (self-signed certificate): ${TRUST}`;
  const strict = url({ url: target, ffmpegPath: NO_FFMPEG });
  t.after(() => strict.stop());
  await assert.rejects(strict.check!(), (err: unknown) => isCamcastError(err, 'SOURCE_NOT_FOUND') && err.message === said);
  await assert.rejects(strict.start(frameCollector().sink), (err: unknown) => isCamcastError(err, 'SOURCE_START_FAILED') && err.message === said);

  const trusting = url({ url: target, ffmpegPath: NO_FFMPEG, insecure: true });
  t.after(() => trusting.stop());
  await trusting.check!();
  const { sink, frames, failed } = frameCollector();
  await trusting.start(sink);
  await until(() => frames.length >= 3, '3 frames', 5000);
  await trusting.stop();
  assert.ok(frames.slice(0, 3).every((frame) => jpegs.some((jpeg) => jpeg.equals(frame.jpeg))), 'the upstream\'s JPEGs, untouched');
  assert.deepEqual(failed, []);
});

test('url() with insecure: true polls a still image over HTTPS with a self-signed certificate, every GET trusting it', async (t) => {
  let served = 0;
  const target = `${await serve(t, (_req, res) => {
    const jpeg = jpegs[served++ % jpegs.length]!;
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
  })}/snapshot.jpg`;
  await assert.rejects(url({ url: target }).check!(), (err: unknown) => isCamcastError(err, 'SOURCE_NOT_FOUND') && err.message.includes(TRUST));
  const source = url({ url: target, ffmpegPath: NO_FFMPEG, insecure: true, fps: 20 });
  t.after(() => source.stop());
  const { sink, frames, failed } = frameCollector();
  await source.start(sink);
  await until(() => frames.length >= 3, 'three polled pictures', 10_000);
  await source.stop();
  assert.ok(served >= 3, `${served} GETs answered`);
  assert.deepEqual(failed, []);
});

test('url().check() and start() on https:// to a plain-HTTP server say to use http://, without OpenSSL\'s internals', async (t) => {
  const base = await serve(t, streamMjpeg, { plain: true });
  const source = url({ url: `${base}/`, ffmpegPath: NO_FFMPEG });
  t.after(() => source.stop());
  const said = (err: Error) => {
    assert.match(err.message, /^cannot reach https:\/\/127\.0\.0\.1:\d+\/: \w+ EPROTO wrong version number: it does not speak TLS: use http:\/\/ instead of https:\/\/$/);
    assert.doesNotMatch(err.message, /openssl|:error:|\.c:\d/);
    return true;
  };
  await assert.rejects(source.check!(), (err: unknown) => isCamcastError(err, 'SOURCE_NOT_FOUND') && said(err));
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => isCamcastError(err, 'SOURCE_START_FAILED') && said(err));
});

test('url() throws BAD_OPTION for an insecure that is not true or false', () => {
  for (const insecure of ['yes', 1, null]) {
    assert.throws(
      () => url({ url: 'https://cam/video.mjpg', insecure: insecure as unknown as boolean }),
      (err: unknown) => isCamcastError(err, 'BAD_OPTION') && /^insecure must be true or false \(got /.test(err.message),
    );
  }
  assert.doesNotThrow(() => url({ url: 'https://cam/video.mjpg', insecure: false }));
});
