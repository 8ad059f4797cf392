/**
 * One load process: opens many MJPEG viewers on raw sockets and counts, per viewer, the parts it
 * receives, without keeping any bytes (one shared read buffer for every socket). Latency is the
 * time the last byte of a part arrived minus its X-Timestamp, both on this machine's wall clock.
 */
import net from 'node:net';
import { serveCommands } from './ipc.js';
import { PartCounter, type PartEvent } from './part-counter.js';
import { LatencyHistogram } from './stats.js';

interface Viewer {
  readonly socket: net.Socket;
  readonly startedAt: number;
  readonly late: boolean;
  firstFrameAt: number | undefined;
  parts: number;
  windowParts: number;
  windowBytes: number;
  bad: number;
  closed: boolean;
  error: string | undefined;
}

const viewers: Viewer[] = [];
const latency = new LatencyHistogram();
const readBuffer = Buffer.allocUnsafe(256 * 1024);
let inWindow = false;
let windowStart = 0;
let windowCpu = process.cpuUsage();
let stopping = false;
let disconnects = 0;
/** When the current read arrived, on the wall clock with sub-millisecond precision. */
let now = 0;
let target = { port: 0, path: '/stream.mjpg' };

function open(late: boolean): Viewer {
  const viewer: Viewer = {
    socket: undefined as unknown as net.Socket,
    startedAt: performance.now(),
    late,
    firstFrameAt: undefined,
    parts: 0,
    windowParts: 0,
    windowBytes: 0,
    bad: 0,
    closed: false,
    error: undefined,
  };
  const counter = new PartCounter((part: PartEvent) => {
    viewer.parts++;
    if (viewer.firstFrameAt === undefined) viewer.firstFrameAt = performance.now();
    if (!part.ok) viewer.bad++;
    if (inWindow && !late) {
      viewer.windowParts++;
      viewer.windowBytes += part.bytes;
      latency.record(now - part.timestampMs);
    }
  });
  const socket = net.connect({
    host: '127.0.0.1',
    port: target.port,
    onread: {
      buffer: readBuffer,
      callback: (n: number, buf: Uint8Array) => {
        now = performance.timeOrigin + performance.now();
        counter.push(buf, 0, n);
        if (counter.error !== undefined && viewer.error === undefined) {
          viewer.error = counter.error;
          viewer.bad++;
          socket.destroy();
        }
        return true;
      },
    },
  });
  (viewer as { socket: net.Socket }).socket = socket;
  socket.setNoDelay(true);
  socket.once('connect', () => socket.write(`GET ${target.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
  socket.on('error', (error: NodeJS.ErrnoException) => {
    viewer.error ??= error.code ?? error.message;
  });
  socket.once('close', () => {
    viewer.closed = true;
    if (!stopping && !late) disconnects++;
  });
  viewers.push(viewer);
  return viewer;
}

serveCommands({
  /** Opens `count` viewers spread evenly over `rampMs`; answers at once. */
  open: ({ port, path, count, rampMs }) => {
    target = { port: port as number, path: (path as string | undefined) ?? '/stream.mjpg' };
    const n = count as number;
    const step = n > 1 ? (rampMs as number) / n : 0;
    for (let i = 0; i < n; i++) setTimeout(() => stopping || open(false), Math.round(i * step));
    return {};
  },
  mark: () => {
    inWindow = true;
    windowStart = performance.now();
    windowCpu = process.cpuUsage();
    latency.reset();
    for (const v of viewers) {
      v.windowParts = 0;
      v.windowBytes = 0;
    }
    return {};
  },
  /** Opens `count` more viewers now; answers with each one's time to first frame (null: none in time). */
  late: async ({ count, timeoutMs }) => {
    const opened = Array.from({ length: count as number }, () => open(true));
    const deadline = performance.now() + (timeoutMs as number);
    while (performance.now() < deadline && opened.some((v) => v.firstFrameAt === undefined && !v.closed)) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ttff = opened.map((v) => (v.firstFrameAt === undefined ? null : v.firstFrameAt - v.startedAt));
    for (const v of opened) v.socket.destroy();
    return { ttff, errors: opened.map((v) => v.error ?? null) };
  },
  report: () => {
    inWindow = false;
    const seconds = (performance.now() - windowStart) / 1000;
    const cpu = process.cpuUsage(windowCpu);
    const main = viewers.filter((v) => !v.late);
    const errors: Record<string, number> = {};
    for (const v of main) if (v.error) errors[v.error] = (errors[v.error] ?? 0) + 1;
    return {
      seconds,
      cpuPercent: (cpu.user + cpu.system) / 1e4 / seconds,
      viewers: main.length,
      fps: main.map((v) => v.windowParts / seconds),
      ttff: main.map((v) => (v.firstFrameAt === undefined ? null : v.firstFrameAt - v.startedAt)),
      bytes: main.reduce((sum, v) => sum + v.windowBytes, 0),
      bad: main.reduce((sum, v) => sum + v.bad, 0),
      disconnects,
      errors,
      latency: latency.toSparse(),
    };
  },
  stop: () => {
    stopping = true;
    for (const v of viewers) v.socket.destroy();
    setImmediate(() => process.exit(0));
    return {};
  },
});
process.send?.({ id: 0, ok: true, ready: true });
