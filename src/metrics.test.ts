import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { isCamcastError } from './errors.js';
import { processMetrics } from './http/metrics.js';
import { stream, type LiveStream, type NodeHandler } from './live-stream.js';
import { mergedMetrics } from './merged-metrics.js';
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

/** Serves `handler` on 127.0.0.1 and returns its URL. */
async function serve(t: TestContext, handler: NodeHandler): Promise<string> {
  const server = http.createServer(handler);
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
}

/** The metric names of a page, one per `# TYPE` line, repeats kept. */
const typedNames = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);

const refusedWith = (message: RegExp) => (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message) && !e.message.includes('\n');

describe('metricsLabels', () => {
  test('createServer({ metricsLabels }) puts the labels on every series of /metrics, process_* included', async (t) => {
    const { url } = await start(t, { source: push(), metricsLabels: { camera: 'front', site: 'lab' } });
    const samples = [...(await scrape(url)).keys()];
    const plain = stream(push());
    t.after(() => plain.close());
    const families = new Set(typedNames(await plain.metricsRegistry.metrics()));
    assert.ok(families.size >= 15, `${families.size} camcast_* families`);
    for (const family of families) assert.ok(samples.some((key) => key.startsWith(`${family}{`)), `${family} is on the page`);
    assert.ok(samples.some((key) => key.startsWith('process_cpu_seconds_total')));
    for (const key of samples) assert.match(key, /\{(?:.*,)?camera="front",site="lab"\}$/, key);
    assert.ok(samples.includes('camcast_source_state{state="stopped",camera="front",site="lab"}'));
  });

  test("stream({ metricsLabels }) labels cam.metricsRegistry and cam.metrics; the caller's object changing later changes nothing", async (t) => {
    const labels: Record<string, string> = { camera: 'back' };
    const cam = stream(push(), { metricsLabels: labels });
    t.after(() => cam.close());
    labels.camera = 'changed';
    const json = await cam.metricsRegistry.getMetricsAsJSON();
    const values = json.filter((m) => m.name.startsWith('camcast_')).flatMap((m) => m.values);
    assert.ok(values.length >= 20);
    for (const value of values) assert.equal(value.labels.camera, 'back');
    const page = parseExposition((await fetchBuffer(await serve(t, cam.metrics))).body.toString());
    for (const key of page.keys()) assert.match(key, /camera="back"\}$/, key);
  });

  test('stream() and createServer() refuse bad metricsLabels with one BAD_OPTION line, before the source starts', async () => {
    const cases: [unknown, RegExp][] = [
      ['camera=front', /^metricsLabels must be an object of label names to strings, e\.g\. \{ camera: 'front' \} \(got 'camera=front'\)$/],
      [null, /^metricsLabels must be an object .*\(got null\)$/],
      [['camera'], /^metricsLabels must be an object .*\(got an array\)$/],
      [new Map([['camera', 'front']]), /^metricsLabels must be an object .*\(got an object\)$/],
      [{ 'my-camera': 'front' }, /^metricsLabels: 'my-camera' is no Prometheus label name: use letters, digits and _, .* e\.g\. \{ camera: 'front' \}$/],
      [{ '1camera': 'front' }, /^metricsLabels: '1camera' is no Prometheus label name/],
      [{ __x: 'front' }, /^metricsLabels: '__x' is no Prometheus label name: .*__ \(reserved\)/],
      [{ camera: 1 }, /^metricsLabels\.camera must be a non-empty string, e\.g\. \{ camera: 'front' \} \(got 1\)$/],
      [{ camera: '' }, /^metricsLabels\.camera must be a non-empty string.*\(got ''\)$/],
    ];
    // Every label camcast's own metrics use, read from a registry rather than from a list.
    const plain = stream(push());
    const used = new Set((await plain.metricsRegistry.getMetricsAsJSON()).flatMap((m) => m.values.flatMap((v) => Object.keys(v.labels))));
    await plain.close();
    assert.deepEqual([...used].sort(), ['source_kind', 'state', 'version']);
    for (const name of used) cases.push([{ camera: 'front', [name]: 'x' }, new RegExp(`^metricsLabels: '${name}' is a label of camcast's own metrics \\(version, source_kind, state\\): pick another name, e\\.g\\. \\{ camera: 'front' \\}$`)]);

    const source = new FakeSource();
    for (const [metricsLabels, message] of cases) {
      const options = { idleTimeoutMs: 0, metricsLabels } as never;
      assert.throws(() => stream(source, options), refusedWith(message), `stream: ${String(metricsLabels)}`);
      assert.throws(() => createServer({ source, ...(options as object) }), refusedWith(message), `createServer: ${String(metricsLabels)}`);
    }
    assert.equal(source.starts, 0, 'the source never started');
    // And it was not taken: a good value uses it.
    const cam = stream(source, { idleTimeoutMs: 0, metricsLabels: { camera: 'front' } });
    await until(() => source.running, 'the source to start');
    await cam.close();
  });
});

describe('mergedMetrics()', () => {
  /** A stream that captures from creation, with `frames` frames delivered. */
  async function camera(t: TestContext, frames: number, metricsLabels?: Record<string, string>) {
    const source = new FakeSource();
    const cam = stream(source, { idleTimeoutMs: 0, metricsLabels });
    t.after(() => cam.close());
    await until(() => source.running, 'the source to start');
    for (let i = 0; i < frames; i++) source.emit();
    await until(() => cam.broadcaster.status().frames === frames, `${frames} frames`);
    return cam;
  }

  test('serves each family once, with both cameras as separate series whose values are not added up', async (t) => {
    const front = await camera(t, 3, { camera: 'front' });
    const back = await camera(t, 1, { camera: 'back' });
    const url = await serve(t, mergedMetrics([front, back]));
    const res = await fetchBuffer(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const text = res.body.toString();

    const names = typedNames(text);
    assert.equal(new Set(names).size, names.length, `a # TYPE repeats: ${names.join(' ')}`);
    const helps = [...text.matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]!);
    assert.deepEqual(helps, names, 'one HELP per family');
    assert.deepEqual(new Set(names), new Set(typedNames(await front.metricsRegistry.metrics())), 'every family of a stream');

    const samples = parseExposition(text);
    assert.equal(samples.get('camcast_source_frames_total{camera="front"}'), 3);
    assert.equal(samples.get('camcast_source_frames_total{camera="back"}'), 1);
    assert.equal(samples.get('camcast_source_state{state="live",camera="front"}'), 1);
    assert.equal(samples.get('camcast_source_state{state="live",camera="back"}'), 1);
    assert.equal(samples.get('camcast_source_width_pixels{camera="back"}'), 2, 'a gauge is not added up either');
    assert.ok([...samples.keys()].every((key) => /camera="(front|back)"\}$/.test(key)));
    assert.equal([...samples.keys()].filter((key) => key.startsWith('camcast_info{')).length, 2);

    const head = await fetchBuffer(url, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    // A second scrape: gauges such as the fps may have moved since, so the length may differ by a digit or two.
    assert.ok(Math.abs(Number(head.headers['content-length']) - res.body.length) < 64, `HEAD says ${head.headers['content-length']} bytes`);
    const post = await fetchBuffer(url, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  test('answers 503 once one of its streams is closed', async (t) => {
    const front = await camera(t, 0, { camera: 'front' });
    const back = await camera(t, 0, { camera: 'back' });
    const url = await serve(t, mergedMetrics([front, back]));
    assert.equal((await fetchBuffer(url)).status, 200);
    await back.close();
    const closed = await fetchBuffer(url);
    assert.equal(closed.status, 503);
    assert.match(closed.body.toString(), /^camcast: a stream of this page was closed/);
  });

  test('refuses an empty list, a non-stream and streams with the same metricsLabels, with one BAD_OPTION line', async (t) => {
    const front = stream(push(), { metricsLabels: { camera: 'front', site: 'lab' } });
    t.after(() => front.close());
    const same = stream(push(), { metricsLabels: { site: 'lab', camera: 'front' } });
    t.after(() => same.close());
    const unlabelled = [stream(push()), stream(push())];
    t.after(() => Promise.all(unlabelled.map((cam) => cam.close())));
    const usage = "^mergedMetrics\\(\\) takes a list of streams with different metricsLabels, e\\.g\\. mergedMetrics\\(\\[stream\\(a, \\{ metricsLabels: \\{ camera: 'front' \\} \\}\\), .*\\]\\) ";
    const cases: [unknown, string][] = [
      [[], '\\(got an empty list\\)$'],
      [front, '\\(got no list\\)$'],
      [[front, new FakeSource()], '\\(item 1 is not the object stream\\(\\) returns\\)$'],
      [[front, front], '\\(items 0 and 1 both have metricsLabels \\{"camera":"front","site":"lab"\\}, so their values would be added up\\)$'],
      [[front, same], '\\(items 0 and 1 both have metricsLabels'],
      [unlabelled, '\\(items 0 and 1 both have metricsLabels unset, so'],
    ];
    for (const [streams, message] of cases) {
      assert.throws(() => mergedMetrics(streams as LiveStream[]), refusedWith(new RegExp(usage + message)), String(message));
    }
    // One stream without labels, or streams with different ones, are fine.
    mergedMetrics([unlabelled[0]!]);
    mergedMetrics([front, unlabelled[0]!]);
  });
});
