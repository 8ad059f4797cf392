import assert from 'node:assert/strict';
import { readFileSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { testPattern } from './sources/test-pattern.js';
import { createServer, type StreamServerOptions } from './stream-server.js';
import { until } from './testing/fake-source.js';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';
import { pidsMatching } from './testing/processes.js';
import { makeClip } from './testing/test-clip.js';

const FAST_RETRY = [300, 600];

async function start(t: TestContext, options: StreamServerOptions) {
  const server = createServer({ host: '127.0.0.1', port: 0, restartDelaysMs: FAST_RETRY, ...options });
  t.after(() => server.close());
  const { url, port } = await server.listen();
  return { server, url, port };
}

function watch(t: TestContext, url: string) {
  const client = openMjpeg(url);
  t.after(() => client.destroy());
  return client;
}

async function statusOf(url: string) {
  return JSON.parse((await fetchBuffer(`${url}api/status`)).body.toString()) as any;
}

describe('source supervision', () => {
  test('ffmpeg killed mid-stream: viewers stay connected, see "no signal", and live frames resume', async (t) => {
    const { dir, path } = makeClip(t, { seconds: 4 });
    const { url, server } = await start(t, { source: path });
    const viewer = watch(t, `${url}stream.mjpg`);
    await viewer.waitForParts(5);
    const [pid] = pidsMatching(dir);
    assert.ok(pid, 'ffmpeg runs for the file');
    const states: string[] = [];
    server.on('state', (s) => states.push(s));
    process.kill(pid, 'SIGKILL');
    await until(() => states.includes('retrying'), 'the failure to be noticed');
    const status = await statusOf(url);
    assert.match(status.source.lastError, /ffmpeg|exit|signal/i);
    await until(() => server.broadcaster.state === 'live', 'live frames again', 15_000);
    assert.ok((await statusOf(url)).source.restarts >= 1);
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 5);
    assert.equal(viewer.parts.at(-1)!.body[0], 0xff, 'the same connection carries on');
    const newPids = pidsMatching(dir);
    assert.equal(newPids.length, 1, 'exactly one ffmpeg again');
    assert.notEqual(newPids[0], pid);
  });

  test('ffmpeg stopped with SIGSTOP is detected as stalled and replaced', async (t) => {
    const { dir, path } = makeClip(t, { seconds: 4 });
    const { url, server } = await start(t, { source: path, stallTimeoutMs: 800 });
    const viewer = watch(t, `${url}stream.mjpg`);
    await viewer.waitForParts(3);
    const [pid] = pidsMatching(dir);
    assert.ok(pid);
    process.kill(pid, 'SIGSTOP');
    t.after(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    });
    await until(() => server.broadcaster.state === 'retrying', 'the stall to be detected', 10_000);
    assert.match((await statusOf(url)).source.lastError, /sent no frame for 0\.8 s/);
    await until(() => server.broadcaster.state === 'live', 'a new ffmpeg to deliver frames', 15_000);
    await until(() => !pidsMatching(dir).includes(pid), 'the stopped ffmpeg to be killed', 10_000);
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 3);
  });

  test('a file deleted while playing: the stream goes on, and a restart says the file is missing', async (t) => {
    const { dir, path } = makeClip(t, { seconds: 4 });
    const { url, server } = await start(t, { source: path, restartDelaysMs: [200, 10_000] });
    const viewer = watch(t, `${url}stream.mjpg`);
    await viewer.waitForParts(3);
    unlinkSync(path);
    // ffmpeg holds the file open, so what it already has keeps playing.
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 10);
    const [pid] = pidsMatching(dir);
    process.kill(pid!, 'SIGKILL');
    await until(() => /clip\.mp4/.test(server.broadcaster.lastError?.message ?? '') && /no such file|not found|missing/i.test(server.broadcaster.lastError?.message ?? ''), 'the missing file to be reported', 10_000);
    assert.equal(server.broadcaster.state, 'retrying');
    // Viewers keep their connection and get a "no signal" picture about once a second.
    const during = viewer.parts.length;
    await viewer.waitForParts(during + 2, 5000);
    const status = await statusOf(url);
    assert.equal(status.viewers.count, 1);
  });

  test('an HTTP MJPEG upstream that dies and comes back is relayed again', async (t) => {
    const upstream = createServer({ source: testPattern({ width: 96, height: 72, fps: 20 }), host: '127.0.0.1', port: 0 });
    t.after(() => upstream.close());
    const { port: upPort, url: upUrl } = await upstream.listen();
    const { url, server } = await start(t, { source: `${upUrl}stream.mjpg` });
    const viewer = watch(t, `${url}stream.mjpg`);
    await viewer.waitForParts(3);
    assert.equal((await statusOf(url)).source.kind, 'url');
    await upstream.close();
    await until(() => server.broadcaster.state === 'retrying', 'the upstream loss to be noticed', 10_000);
    const again = createServer({ source: testPattern({ width: 96, height: 72, fps: 20 }), host: '127.0.0.1', port: upPort });
    t.after(() => again.close());
    await again.listen();
    await until(() => server.broadcaster.state === 'live', 'the relay to resume', 15_000);
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 3);
    assert.equal(viewer.parts.length >= before + 3, true);
    assert.ok((await statusOf(url)).source.restarts >= 1);
  });

  test('an ffmpeg-decoded HTTP upstream that ends is retried, not taken as the end of the stream', async (t) => {
    const { path } = makeClip(t, { seconds: 1 });
    const clip = readFileSync(path);
    const upstream = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': clip.length }).end(clip));
    t.after(() => new Promise<void>((r) => upstream.close(() => r())));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    const { url, server } = await start(t, { source: `http://127.0.0.1:${port}/clip.mp4` });
    const states: string[] = [];
    server.on('state', (s) => states.push(s));
    const viewer = watch(t, `${url}stream.mjpg`);
    await viewer.waitForParts(3);
    await until(() => states.includes('retrying'), 'the end of the upstream to count as a failure', 15_000);
    assert.ok(!states.includes('ended'), `states: ${states}`);
    assert.match(server.broadcaster.lastError?.message ?? '', /input ended/);
    await until(() => server.broadcaster.state === 'live', 'the upstream to be read again', 15_000);
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 3);
  });
});

