/**
 * The server side of the fan-out and stalled scenarios, in its own process so its CPU and memory
 * are its own. `camcast` is the library's real server fed by a push() source; `reference` is the
 * bare node:http server the issue measures camcast against: one part buffer per frame written
 * to every socket, ignoring write()'s return value. Both send the same bytes at the same pace
 * (the same clock, the same JPEG, the same part format), so only fan-out differs.
 *
 * argv: camcast|reference JPEG_PATH FPS
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { preciseNow } from '../frame.js';
import { MultipartEncoder } from '../http/multipart-encoder.js';
import { FrameClock } from '../sources/frame-clock.js';
import { push } from '../sources/push.js';
import { createServer } from '../stream-server.js';
import { serveCommands } from './ipc.js';

const [kind = 'camcast', jpegPath = '', fpsArg = '30'] = process.argv.slice(2);
const jpeg = readFileSync(jpegPath);
const fps = Number(fpsArg);
/** A child that grows past this is stopped: the bench must never take the machine down. */
const RSS_LIMIT = 3 * 1024 ** 3;

// Counts what reaches res.write(): calls, bytes, and distinct buffers of part size. One distinct
// buffer per frame whatever the number of viewers means no per-viewer copy of the JPEG bytes.
const counters = { writes: 0, bytes: 0, partBuffers: 0 };
let seen = new WeakSet<object>();
const originalWrite = http.ServerResponse.prototype.write;
http.ServerResponse.prototype.write = function (this: http.ServerResponse, chunk: unknown, ...rest: unknown[]) {
  counters.writes++;
  if (chunk instanceof Uint8Array) {
    counters.bytes += chunk.length;
    if (chunk.length >= jpeg.length && !seen.has(chunk)) {
      seen.add(chunk);
      counters.partBuffers++;
    }
  }
  return (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof originalWrite;

interface ServerUnderTest {
  readonly port: number;
  frames(): number;
  close(): Promise<void>;
}

async function startCamcast(): Promise<ServerUnderTest> {
  const source = push();
  const server = createServer({ source, port: 0, idleTimeoutMs: 0, stallTimeoutMs: 0 });
  const { port } = await server.listen();
  const clock = new FrameClock(fps, () => source.push(jpeg));
  clock.start();
  return {
    port,
    frames: () => server.broadcaster.status().frames,
    close: async () => {
      clock.stop();
      await server.close();
    },
  };
}

async function startReference(): Promise<ServerUnderTest> {
  const encoder = new MultipartEncoder();
  const viewers = new Map<http.ServerResponse, { id: number; client: string | null }>();
  let seq = 0;
  let nextId = 1;
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
  const clock = new FrameClock(fps, () => {
    // The bench's fixture holds no delimiter, so it always has a part.
    const part = encoder.part({ jpeg, seq: ++seq, capturedAt: preciseNow() })!;
    for (const res of viewers.keys()) res.write(part);
  });
  clock.start();
  return {
    port: (server.address() as { port: number }).port,
    frames: () => seq,
    close: async () => {
      clock.stop();
      for (const res of viewers.keys()) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const server = kind === 'reference' ? await startReference() : await startCamcast();
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

serveCommands({
  /** Starts a measurement window: counters, CPU and the event-loop histogram restart here. */
  mark: () => {
    counters.writes = 0;
    counters.bytes = 0;
    counters.partBuffers = 0;
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
