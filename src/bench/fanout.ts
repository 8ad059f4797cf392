import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchPicture } from './bench-source.js';
import { Child, type Reply } from './ipc.js';
import { cpuTimes, listenOverflows, machineBusyPercent, nofileFor } from './machine.js';
import { LatencyHistogram, median, round, type SparseHistogram } from './stats.js';
import { describeError } from '../errors.js';

export type ServerKind = 'camcast' | 'reference';

export interface FanoutOptions {
  /** What both servers send; its fps is the rate every viewer should get. */
  readonly picture: BenchPicture;
  /** Viewers are opened evenly over this time, as in the measurements (2 s). */
  readonly rampMs: number;
  /** Time after the ramp before the measurement window opens. */
  readonly settleMs: number;
  readonly seconds: number;
  readonly loadProcesses: number;
  /** Viewers opened in the middle of the window to see whether newcomers still get frames. */
  readonly lateViewers: number;
  readonly cpus: number;
  readonly log: (line: string) => void;
}

export interface FanoutPoint {
  readonly viewers: number;
  readonly server: ServerKind;
  readonly failure?: string;
  readonly fpsMedian: number;
  readonly fpsMin: number;
  /** Frames delivered per viewer and second, starved viewers included: the aggregate. */
  readonly fpsMean: number;
  /** Viewers that got no frame at all inside the window. */
  readonly starved: number;
  readonly mbPerSec: number;
  readonly serverCpuPercent: number;
  readonly serverRssMb: number;
  readonly serverRssPeakMb: number;
  /** Median of process.memoryUsage().arrayBuffers in the window: where JPEG bytes live. */
  readonly arrayBuffersMb: number;
  readonly serverLoopDelayMaxMs: number;
  /** Including the ramp, when every newcomer is accepted and served its first frame. */
  readonly serverLoopDelayMaxSinceStartMs: number;
  readonly ttffMedianMs: number;
  readonly ttffMaxMs: number;
  readonly noFirstFrame: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly badFrames: number;
  readonly disconnects: number;
  readonly errors: Record<string, number>;
  readonly statusMaxMs: number;
  readonly statusFailures: number;
  readonly lateTtffMaxMs: number;
  readonly lateNoFrame: number;
  readonly framesPublished: number;
  readonly writesPerFrame: number;
  /** Distinct buffers of part size (512 bytes or more) handed to a socket's write() per published frame. */
  readonly partBuffersPerFrame: number;
  /** What the server says it sent ('test pattern 640x480 @ 30 fps'): the chosen picture, or the run is wrong. */
  readonly description: string | null;
  /** Size of the newest frame the server sent, read from its JPEG ('1280x720'): what the source really made. */
  readonly frameSize: string | null;
  /** Bytes received per part, on average over the window (headers included). */
  readonly partBytesMean: number;
  readonly loadCpuPercent: number;
  readonly machineBusyPercent: number;
  /** Machine CPU not used by the server or the load processes (other work, kernel softirq). */
  readonly otherBusyPercent: number;
  /** Connections the kernel dropped from a full listen queue during this point (machine-wide). */
  readonly listenOverflows: number;
  /** When the point was run several times: every run's fps, in the order they ran. This point is the median one. */
  readonly runs?: readonly RunFps[];
}

export interface RunFps {
  readonly fpsMedian: number;
  readonly fpsMin: number;
  readonly fpsMean: number;
  readonly failure?: string;
}

/**
 * The run with the median fps mean (which counts starved viewers; the lower middle one for an
 * even count), carrying every run's fps so the report shows the spread. A failed run ranks lowest.
 */
export function medianRun(points: readonly FanoutPoint[]): FanoutPoint {
  if (points.length === 1) return points[0]!;
  const rank = (p: FanoutPoint) => (p.failure ? -Infinity : p.fpsMean);
  const sorted = [...points].sort((a, b) => rank(a) - rank(b));
  const runs = points.map(({ fpsMedian, fpsMin, fpsMean, failure }) => ({ fpsMedian, fpsMin, fpsMean, ...(failure ? { failure } : {}) }));
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, runs };
}

interface LoadReport extends Reply {
  seconds: number;
  cpuPercent: number;
  viewers: number;
  fps: number[];
  ttff: (number | null)[];
  bytes: number;
  bad: number;
  disconnects: number;
  errors: Record<string, number>;
  latency: SparseHistogram;
}

interface ServerReport extends Reply {
  seconds: number;
  cpuPercent: number;
  frames: number;
  writes: number;
  partBuffers: number;
  frameSize: string | null;
  description: string;
  rss: { now: number; peak: number; samples: number[] };
  arrayBuffers: number[];
  loopDelayMaxMs: number;
  loopDelayMaxSinceStartMs: number;
}

const SERVER_MODULE = new URL('./server-child.js', import.meta.url);
const LOAD_MODULE = new URL('./load-child.js', import.meta.url);
const MB = 1024 * 1024;

export function startServer(kind: ServerKind, picture: BenchPicture, sockets: number): Child {
  // BENCH_SERVER_NODE_ARGS passes Node flags to the server only, e.g. '--cpu-prof --cpu-prof-dir=prof'.
  const execArgv = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const args = [kind, picture.jpegPath, String(picture.fps), picture.source, String(picture.width), String(picture.height)];
  return new Child(`${kind} server`, SERVER_MODULE, args, { nofile: nofileFor(sockets + 256), execArgv });
}

export function startLoad(index: number, sockets: number): Child {
  return new Child(`load ${index}`, LOAD_MODULE, [], { nofile: nofileFor(sockets + 256) });
}

/** One server, N viewers from separate load processes, one measurement window. */
export async function runFanoutPoint(kind: ServerKind, viewers: number, o: FanoutOptions): Promise<FanoutPoint> {
  const server = startServer(kind, o.picture, viewers + o.lateViewers);
  const loads: Child[] = [];
  const overflows0 = listenOverflows();
  try {
    const { port } = (await server.ready) as Reply & { port: number };
    for (let i = 0; i < o.loadProcesses; i++) loads.push(startLoad(i, Math.ceil(viewers / o.loadProcesses) + o.lateViewers));
    await Promise.all(loads.map((l) => l.ready));
    const shares = loads.map((_, i) => Math.floor(viewers / loads.length) + (i < viewers % loads.length ? 1 : 0));
    await Promise.all(loads.map((l, i) => l.request('open', { port, count: shares[i], rampMs: o.rampMs })));
    await sleep(o.rampMs + o.settleMs);

    const cpu0 = cpuTimes();
    await Promise.all([server.request('mark'), ...loads.map((l) => l.request('mark'))]);
    const windowEnd = performance.now() + o.seconds * 1000;
    const probes = probeStatus(port, windowEnd);
    const late = sleep((o.seconds * 1000) / 2).then(() =>
      o.lateViewers > 0 ? loads[0]!.request('late', { count: o.lateViewers, timeoutMs: Math.max(1000, (o.seconds * 1000) / 2 - 500) }, o.seconds * 1000 + 10_000) : undefined,
    );
    await sleep(Math.max(0, windowEnd - performance.now()));
    const [serverReport, ...loadReports] = (await Promise.all([server.request('report'), ...loads.map((l) => l.request('report', {}, 60_000))])) as [ServerReport, ...LoadReport[]];
    const cpu1 = cpuTimes();
    const [status, lateReply] = await Promise.all([probes, late]);
    const machine = { busy: machineBusyPercent(cpu0, cpu1, o.cpus), listenOverflows: listenOverflows() - overflows0 };
    return summarize(kind, viewers, serverReport, loadReports, status, lateReply as (Reply & { ttff: (number | null)[] }) | undefined, machine);
  } catch (error) {
    return failed(kind, viewers, describeError(error));
  } finally {
    await Promise.all([server.stop(), ...loads.map((l) => l.stop())]);
  }
}

function summarize(
  kind: ServerKind,
  viewers: number,
  server: ServerReport,
  loads: LoadReport[],
  status: { times: number[]; failures: number },
  late: { ttff: (number | null)[] } | undefined,
  machine: { busy: number; listenOverflows: number },
): FanoutPoint {
  const fps = loads.flatMap((l) => l.fps);
  const ttff = loads.flatMap((l) => l.ttff);
  const got = ttff.filter((t): t is number => t !== null);
  const latency = new LatencyHistogram();
  for (const l of loads) latency.merge(l.latency);
  const seconds = median(loads.map((l) => l.seconds));
  const errors: Record<string, number> = {};
  for (const l of loads) for (const [k, v] of Object.entries(l.errors)) errors[k] = (errors[k] ?? 0) + v;
  const lateTtff = late?.ttff ?? [];
  const frames = Math.max(1, server.frames);
  return {
    viewers,
    server: kind,
    fpsMedian: round(median(fps), 2),
    fpsMin: round(Math.min(...fps), 2),
    fpsMean: round(fps.reduce((a, b) => a + b, 0) / Math.max(1, fps.length), 2),
    starved: fps.filter((f) => f === 0).length,
    mbPerSec: round(loads.reduce((s, l) => s + l.bytes, 0) / MB / seconds, 1),
    serverCpuPercent: round(server.cpuPercent, 0),
    serverRssMb: round(median(server.rss.samples) / MB, 0),
    serverRssPeakMb: round(server.rss.peak / MB, 0),
    arrayBuffersMb: round(median(server.arrayBuffers) / MB, 1),
    serverLoopDelayMaxMs: round(server.loopDelayMaxMs, 1),
    serverLoopDelayMaxSinceStartMs: round(server.loopDelayMaxSinceStartMs, 1),
    ttffMedianMs: round(median(got), 1),
    ttffMaxMs: round(got.length ? Math.max(...got) : NaN, 1),
    noFirstFrame: ttff.length - got.length + (viewers - ttff.length),
    latencyP50Ms: round(latency.percentile(50), 1),
    latencyP99Ms: round(latency.percentile(99), 1),
    latencyMaxMs: round(latency.max, 1),
    badFrames: loads.reduce((s, l) => s + l.bad, 0),
    disconnects: loads.reduce((s, l) => s + l.disconnects, 0),
    errors,
    statusMaxMs: round(status.times.length ? Math.max(...status.times) : NaN, 0),
    statusFailures: status.failures,
    lateTtffMaxMs: round(lateTtff.some((t) => t === null) ? Infinity : Math.max(...(lateTtff as number[])), 0),
    lateNoFrame: lateTtff.filter((t) => t === null).length,
    framesPublished: server.frames,
    writesPerFrame: round(server.writes / frames, 1),
    partBuffersPerFrame: round(server.partBuffers / frames, 2),
    description: server.description,
    frameSize: server.frameSize,
    partBytesMean: round(loads.reduce((s, l) => s + l.bytes, 0) / Math.max(1, fps.reduce((a, b) => a + b, 0) * seconds), 0),
    loadCpuPercent: round(loads.reduce((s, l) => s + l.cpuPercent, 0), 0),
    machineBusyPercent: round(machine.busy, 0),
    otherBusyPercent: round(machine.busy - server.cpuPercent - loads.reduce((s, l) => s + l.cpuPercent, 0), 0),
    listenOverflows: machine.listenOverflows,
  };
}

function failed(kind: ServerKind, viewers: number, failure: string): FanoutPoint {
  return {
    viewers, server: kind, failure,
    fpsMedian: NaN, fpsMin: NaN, fpsMean: NaN, starved: NaN, mbPerSec: NaN, serverCpuPercent: NaN, serverRssMb: NaN, serverRssPeakMb: NaN,
    arrayBuffersMb: NaN, serverLoopDelayMaxMs: NaN, ttffMedianMs: NaN, ttffMaxMs: NaN, noFirstFrame: NaN, latencyP50Ms: NaN,
    latencyP99Ms: NaN, latencyMaxMs: NaN, badFrames: NaN, disconnects: NaN, errors: {}, statusMaxMs: NaN, statusFailures: NaN,
    lateTtffMaxMs: NaN, lateNoFrame: NaN, framesPublished: NaN, writesPerFrame: NaN, partBuffersPerFrame: NaN, description: null, frameSize: null, partBytesMean: NaN, loadCpuPercent: NaN,
    machineBusyPercent: NaN, otherBusyPercent: NaN, listenOverflows: NaN, serverLoopDelayMaxSinceStartMs: NaN,
  };
}

/** GET /api/status about once a second until `until`; how long each full answer took. */
async function probeStatus(port: number, until: number): Promise<{ times: number[]; failures: number }> {
  const times: number[] = [];
  let failures = 0;
  while (performance.now() < until - 500) {
    const started = performance.now();
    try {
      await getStatus(port, 5000);
      times.push(performance.now() - started);
    } catch {
      failures++;
    }
    await sleep(Math.max(0, 1000 - (performance.now() - started)));
  }
  return { times, failures };
}

export function getStatus<T = unknown>(port: number, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/status', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (error) {
          reject(error as Error);
        }
      });
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

