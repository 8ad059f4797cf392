/**
 * The server side of the fan-out and stalled scenarios, in its own process so its CPU and memory
 * are its own. `camcast` is the library's real server; `reference` is the bare node:http server
 * the issue measures camcast against: one part buffer per frame written to every socket,
 * ignoring write()'s return value. Both send the same bytes at the same pace (the same clock and
 * JPEG, or each its own instance of the same source, started and failing alike; the same part
 * format), so only fan-out differs.
 *
 * argv: camcast|reference JPEG_PATH FPS SOURCE WIDTH HEIGHT
 */
import http from 'node:http';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { preciseNow } from '../frame.js';
import { MultipartEncoder } from '../http/multipart-encoder.js';
import { readJpegSize } from '../sources/jpeg-info.js';
import { push } from '../sources/push.js';
import { createServer } from '../stream-server.js';
import { PUSH } from './args.js';
import { FIRST_FRAME_TIMEOUT_MS, openLiveSource, pushClock, runLiveSource, type BenchPicture } from './bench-source.js';
import { serveCommands } from './ipc.js';
import { describeError } from '../errors.js';

const [kind = 'camcast', jpegPath = '', fps = '30', source = PUSH, width = '1280', height = '720'] = process.argv.slice(2);
const picture: BenchPicture = { source, jpegPath, fps: Number(fps), width: Number(width), height: Number(height) };
/**
 * A write this long carries a whole part: longer than any preamble, header or delimiter either
 * server writes on its own, shorter than the smallest JPEG (a flat 16x16 one is over 600 bytes).
 */
const PART_MIN_BYTES = 512;
/** A JPEG's start: what tells a part from another long write (a /api/status answer). */
const JPEG_START = Buffer.from([0xff, 0xd8, 0xff]);
/** A child that grows past this is stopped: the bench must never take the machine down. */
const RSS_LIMIT = 3 * 1024 ** 3;

// Counts what reaches a socket's write(): calls, bytes, and distinct buffers of part size. Every
// byte for a viewer goes there, whether through res.write() (the reference) or straight to the
// socket (camcast's parts). One distinct buffer per frame whatever the number of viewers means
// no per-viewer copy of the JPEG bytes.
const counters = { writes: 0, bytes: 0, partBuffers: 0, partBufferBytes: 0 };
let seen = new WeakSet<object>();
// Inherited from Writable: defined on net.Socket it covers sockets only (TLS ones too).
const originalWrite = net.Socket.prototype.write;
net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
  counters.writes++;
  if (chunk instanceof Uint8Array) {
    counters.bytes += chunk.length;
    // The scan runs once per distinct buffer, and ends within a part's first hundred bytes.
    if (chunk.length >= PART_MIN_BYTES && !seen.has(chunk) && Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).includes(JPEG_START)) {
      seen.add(chunk);
      counters.partBuffers++;
      counters.partBufferBytes += chunk.length;
    }
  }
  return (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof originalWrite;

/** One line and out: the bench reports the point as failed, and no stack trace reaches the user. */
function fail(message: string): never {
  process.stderr.write(`bench server (${kind}): ${message}\n`);
  process.exit(3);
}

interface ServerUnderTest {
  readonly port: number;
  /** What it sends, as the run's header shows it: the check that each server ran the chosen picture. */
  readonly description: string;
  frames(): number;
  /** The newest frame's JPEG, to report the size the source really sent. */
  latest(): Buffer | undefined;
  close(): Promise<void>;
}

async function startCamcast(): Promise<ServerUnderTest> {
  const pushed = picture.source === PUSH ? push() : undefined;
  const ticking = pushed && pushClock(picture, (jpeg) => pushed.push(jpeg));
  const source = pushed ?? openLiveSource(picture);
  // idleTimeoutMs 0: capture from the start, watched or not, as the reference does.
  const server = createServer({ source, port: 0, idleTimeoutMs: 0, stallTimeoutMs: 0 });
  const { port } = await server.listen();
  let closing = false;
  if (ticking) {
    ticking.clock.start();
  } else {
    // Ready once warm, as the reference; a source that fails ends the run, as the reference's
    // does, rather than sending "no signal" pictures that would count as frames.
    server.broadcaster.on('state', (state, error) => {
      if (closing) return;
      if (state === 'retrying' || state === 'ended') fail(`the source ${state === 'ended' ? 'ended' : `failed: ${error?.message ?? 'unknown error'}`}`);
    });
    await server.broadcaster.nextFrame({ timeoutMs: FIRST_FRAME_TIMEOUT_MS });
  }
  return {
    port,
    description: ticking?.description ?? source.description,
    frames: () => server.broadcaster.status().frames,
    latest: () => server.broadcaster.latest?.jpeg,
    close: async () => {
      closing = true;
      ticking?.clock.stop();
      await server.close();
    },
  };
}

async function startReference(): Promise<ServerUnderTest> {
  const encoder = new MultipartEncoder();
  const viewers = new Map<http.ServerResponse, { id: number; client: string | null }>();
  let seq = 0;
  let nextId = 1;
  let latest: Buffer | undefined;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/status')) {
      const list = [...viewers].map(([res, v]) => ({ ...v, pendingBytes: res.writableLength, framesDropped: 0 }));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ frames: seq, viewers: { count: list.length, list } }));
      return;
    }
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, { 'Content-Type': encoder.contentType, Connection: 'close' });
    res.write(encoder.preamble);
    viewers.set(res, { id: nextId++, client: new URL(req.url ?? '/', 'http://x').searchParams.get('cid') });
    res.once('close', () => viewers.delete(res));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const send = (jpeg: Buffer, capturedAt: number) => {
    // undefined: a JPEG holding the delimiter, which no server can frame (the fixture holds none).
    const part = encoder.part({ jpeg, seq: ++seq, capturedAt });
    if (!part) return;
    latest = jpeg;
    for (const res of viewers.keys()) res.write(part);
  };
  let stopFeed: () => Promise<void>;
  let description: string;
  if (picture.source === PUSH) {
    const ticking = pushClock(picture, (jpeg) => send(jpeg, preciseNow()));
    ticking.clock.start();
    stopFeed = async () => ticking.clock.stop();
    description = ticking.description;
  } else {
    const source = openLiveSource(picture);
    await runLiveSource(source, (frame) => send(frame.jpeg, frame.capturedAt ?? preciseNow()), (error) => fail(`the source failed: ${error.message}`));
    stopFeed = () => source.stop();
    description = source.description;
  }
  return {
    port: (server.address() as { port: number }).port,
    description,
    frames: () => seq,
    latest: () => latest,
    close: async () => {
      await stopFeed();
      for (const res of viewers.keys()) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const server = await (kind === 'reference' ? startReference() : startCamcast()).catch((error: unknown) =>
  fail(`cannot start: ${describeError(error)}`),
);
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
// Not reset by 'mark': the longest block since start, which includes the viewers' ramp.
const loopSinceStart = monitorEventLoopDelay({ resolution: 10 });
loopSinceStart.enable();

interface Window {
  readonly at: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly frames: number;
  readonly rss: number[];
  readonly arrayBuffers: number[];
  readonly heapUsed: number[];
}
let window: Window | undefined;
let peakRss = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  if (window) {
    window.rss.push(m.rss);
    window.arrayBuffers.push(m.arrayBuffers);
    window.heapUsed.push(m.heapUsed);
  }
  if (m.rss > RSS_LIMIT) {
    process.stderr.write(`bench server (${kind}): RSS ${Math.round(m.rss / 2 ** 20)} MB passed the bench's limit; stopping\n`);
    process.exit(3);
  }
}, 200);

function frameSize(frame: Buffer | undefined): string | null {
  const size = frame && readJpegSize(frame);
  return size ? `${size.width}x${size.height}` : null;
}

serveCommands({
  /** Starts a measurement window: counters, CPU and the event-loop histogram restart here. */
  mark: () => {
    counters.writes = 0;
    counters.bytes = 0;
    counters.partBuffers = 0;
    counters.partBufferBytes = 0;
    seen = new WeakSet();
    loop.reset();
    window = { at: performance.now(), cpu: process.cpuUsage(), frames: server.frames(), rss: [], arrayBuffers: [], heapUsed: [] };
    return {};
  },
  report: () => {
    const w = window;
    if (!w) throw new Error('report before mark');
    const seconds = (performance.now() - w.at) / 1000;
    const cpu = process.cpuUsage(w.cpu);
    const m = process.memoryUsage();
    return {
      kind,
      seconds,
      cpuPercent: ((cpu.user + cpu.system) / 1e4 / seconds),
      frames: server.frames() - w.frames,
      writes: counters.writes,
      bytes: counters.bytes,
      partBuffers: counters.partBuffers,
      partBytesMean: counters.partBuffers ? counters.partBufferBytes / counters.partBuffers : NaN,
      frameSize: frameSize(server.latest()),
      description: server.description,
      rss: { now: m.rss, peak: peakRss, samples: w.rss },
      arrayBuffers: w.arrayBuffers,
      heapUsed: w.heapUsed,
      loopDelayMaxMs: loop.max / 1e6,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxSinceStartMs: loopSinceStart.max / 1e6,
    };
  },
  memory: () => ({ ...process.memoryUsage() }),
  stop: async () => {
    clearInterval(sampler);
    await server.close();
    setImmediate(() => process.exit(0));
    return {};
  },
});
process.send?.({ id: 0, ok: true, ready: true, port: server.port });
