import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { processMetrics } from './http/metrics.js';
import { stream } from './live-stream.js';
import { push } from './sources/push.js';
import { createServer, type StreamServerOptions } from './stream-server.js';
import { delay, FakeSource, until } from './testing/fake-source.js';
import { fetchBuffer } from './testing/mjpeg-client.js';

async function start(t: TestContext, options: StreamServerOptions) {
  const server = createServer({ host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const address = await server.listen();
  return { server, url: address.url, port: address.port };
}

/**
 * The samples of a Prometheus text exposition, keyed `name{labels}` as written. Strict about
 * what it reads: each line is blank, a HELP or TYPE comment, or one sample with a number.
 */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][\w:]* \S/.test(line)) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${JSON.stringify(line)}`);
    const value = Number(match[2]);
    assert.ok(!Number.isNaN(value), `not a number: ${line}`);
    samples.set(match[1]!, value);
  }
  return samples;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetchBuffer(`${url}metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(res.body.toString());
}

/**
 * A browser's way: the viewer page, then the stream on the same kept-alive connection, read
 * over a raw socket that counts every byte of the stream's response, headers included.
 */
async function rawViewer(t: TestContext, port: number) {
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.write('GET / HTTP/1.1\r\nHost: camcast\r\n\r\n');
  const pageBytes = () => {
    const head = received.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)\r\n/i.exec(received.slice(0, head))?.[1];
    return head >= 0 && length ? head + 4 + Number(length) : Infinity;
  };
  await until(() => received.length >= pageBytes(), 'the viewer page');
  assert.equal(received.length, pageBytes(), 'the page and nothing more');
  const page = received.length;
  socket.write('GET /stream.mjpg HTTP/1.1\r\nHost: camcast\r\n\r\n');
  const stream = () => received.slice(page);
  return { socket, bytes: () => stream().length, parts: () => stream().split('X-Frame-Seq:').length - 1 };
}

describe('GET /metrics', () => {
  test('counts streams, frames, exact bytes, refusals and snapshots; totals keep what closed streams did', async (t) => {
    const source = push();
    const { server, url, port } = await start(t, { source, maxViewers: 1 });
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#369' } }).jpeg().toBuffer();

    const idle = await scrape(url);
    assert.equal(server.broadcaster.state, 'stopped', 'a scrape is not a viewer: it never starts the capture');
    assert.equal(idle.get('camcast_source_state{state="stopped"}'), 1);
    assert.equal(idle.get('camcast_source_state{state="live"}'), 0);
    assert.equal(idle.get('camcast_viewers'), 0);
    assert.equal(idle.get('camcast_streams_opened_total'), 0);
    assert.equal(idle.get('camcast_source_last_frame_timestamp_seconds'), 0);
    assert.match([...idle.keys()].find((k) => k.startsWith('camcast_info'))!, /^camcast_info\{version="\d+\.\d+\.\d+",source_kind="push"\}$/);

    const raw = await rawViewer(t, port);
    await until(() => server.live.viewerCount === 1, 'the viewer');
    for (let i = 0; i < 3; i++) {
      source.push(jpeg);
      await until(() => raw.parts() === i + 1, `part ${i + 1}`);
    }
    // Every byte written has arrived (nothing more is pushed): the count is exact.
    let live = await scrape(url);
    for (let i = 0; i < 100 && live.get('camcast_streams_sent_bytes_total') !== raw.bytes(); i++) {
      await delay(20);
      live = await scrape(url);
    }
    assert.equal(live.get('camcast_streams_sent_bytes_total'), raw.bytes(), "bytes sent = the stream's bytes the viewer received, not the page's");
    assert.equal(live.get('camcast_viewers'), 1);
    assert.equal(live.get('camcast_source_state{state="live"}'), 1);
    assert.equal(live.get('camcast_source_state{state="stopped"}'), 0);
    assert.equal(live.get('camcast_streams_opened_total'), 1);
    assert.equal(live.get('camcast_streams_sent_frames_total'), 3);
    assert.equal(live.get('camcast_source_frames_total'), 3);
    assert.equal(live.get('camcast_source_width_pixels'), 64);
    assert.equal(live.get('camcast_source_height_pixels'), 48);
    assert.ok(Math.abs(live.get('camcast_source_last_frame_timestamp_seconds')! - Date.now() / 1000) < 10, 'last frame is recent');

    // The only slot is taken: refused, and counted.
    assert.equal((await fetchBuffer(`${url}stream.mjpg`)).status, 503);
    assert.equal((await fetchBuffer(`${url}snapshot.jpg`)).status, 200);
    const busy = await scrape(url);
    assert.equal(busy.get('camcast_streams_refused_total'), 1);
    assert.equal(busy.get('camcast_snapshots_total'), 1);

    raw.socket.destroy();
    await until(() => server.live.viewerCount === 0, 'the viewer to leave');
    const after = await scrape(url);
    assert.equal(after.get('camcast_viewers'), 0);
    assert.equal(after.get('camcast_streams_opened_total'), 1);
    assert.equal(after.get('camcast_streams_sent_frames_total'), 3, 'a closed stream still counts');
    assert.equal(after.get('camcast_streams_sent_bytes_total'), raw.bytes(), 'and so do its bytes');
    assert.equal(after.get('camcast_streams_dropped_frames_total'), 0);
    assert.ok(after.get('process_resident_memory_bytes')! > 0);
    assert.ok(after.get('process_cpu_seconds_total')! > 0);
    const started = Date.now() / 1000 - process.uptime();
    assert.ok(Math.abs(after.get('process_start_time_seconds')! - started) < 2, 'the process start time');
  });

  test('shows a failing source as retrying, with its restarts', async (t) => {
    const source = new FakeSource();
    const { server, url } = await start(t, { source, restartDelaysMs: [20] });
    const unsubscribe = server.broadcaster.subscribe({ frame() {} });
    t.after(unsubscribe);
    await until(() => source.running, 'the source to start');
    source.startError = new Error('unplugged');
    source.fail(new Error('unplugged'));
    await until(() => server.broadcaster.status().restarts >= 2, 'two restarts');
    const failing = await scrape(url);
    assert.ok(failing.get('camcast_source_restarts_total')! >= 2);
    assert.equal(failing.get('camcast_source_state{state="retrying"}'), 1);
    assert.equal(failing.get('camcast_source_state{state="starting"}'), 0);
    assert.equal(failing.get('camcast_source_state{state="live"}'), 0);
  });

  test('a source trying again after a failure is still failing for the metrics and /api/health until a frame comes', async (t) => {
    const source = new FakeSource();
    const { server, url } = await start(t, { source, restartDelaysMs: [20, 60_000] });
    const unsubscribe = server.broadcaster.subscribe({ frame() {} });
    t.after(unsubscribe);
    await until(() => source.running, 'the source to start');
    source.emit();
    source.fail(new Error('no answer from the camera'));
    // The retry starts and hangs without a frame, as an IP camera that never answers does.
    await until(() => source.starts === 2 && source.running, 'the retry to run');
    const during = await scrape(url);
    assert.equal(during.get('camcast_source_state{state="retrying"}'), 1);
    assert.equal(during.get('camcast_source_state{state="starting"}'), 0);
    const health = await fetchBuffer(`${url}api/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(JSON.parse(health.body.toString()), { ok: false, state: 'retrying' });
    source.emit();
    const healed = await fetchBuffer(`${url}api/health`);
    assert.equal(healed.status, 200);
    assert.deepEqual(JSON.parse(healed.body.toString()), { ok: true, state: 'live' });
  });

  test("a LiveStream's registry merges into an app's own that has the process metrics; processMetrics adds them to cam.metrics", async (t) => {
    const cam = stream(push(), { processMetrics: true });
    t.after(() => cam.close());
    // An app's registry with the standard process_* names, as prom-client's default metrics have.
    const app = processMetrics();
    const merged = Registry.merge([app, cam.metricsRegistry]);
    const text = await merged.metrics();
    assert.match(text, /^camcast_viewers 0$/m);
    assert.match(text, /^camcast_source_state\{state="stopped"\} 1$/m);
    assert.equal(text.match(/^# TYPE process_cpu_seconds_total /gm)?.length, 1, 'the process metrics once, from the app');

    const server = http.createServer(cam.metrics);
    t.after(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const page = parseExposition((await fetchBuffer(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`)).body.toString());
    assert.equal(page.get('camcast_viewers'), 0);
    assert.ok(page.get('process_resident_memory_bytes')! > 0, 'cam.metrics has the process metrics');
  });

  test('HEAD /metrics has the headers and no body; other methods get 405', async (t) => {
    const { url } = await start(t, { source: push() });
    const head = await fetchBuffer(`${url}metrics`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.ok(Number(head.headers['content-length']) > 0);
    assert.equal((await fetchBuffer(`${url}metrics`, 'POST')).status, 405);
  });
});
