import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchPicture } from './bench-source.js';
import { getStatus, startLoad, startServer, type ServerKind } from './fanout.js';
import type { Child, Reply } from './ipc.js';
import { median, round } from './stats.js';
import { describeError } from '../errors.js';

export interface StalledOptions {
  readonly picture: BenchPicture;
  /**
   * Bytes of one multipart part (headers + JPEG + delimiter), to turn pending bytes into frames.
   * Unset for a live source, whose frames vary: the mean part the server wrote is used.
   */
  readonly partBytes?: number;
  readonly stalled: number;
  readonly live: number;
  readonly seconds: number;
  readonly baselineSeconds: number;
  readonly log: (line: string) => void;
}

export interface StalledResult {
  readonly server: ServerKind;
  readonly failure?: string;
  readonly stalled: number;
  readonly live: number;
  readonly seconds: number;
  /** Live viewers alone, before any stalled viewer connects. */
  readonly baselineFpsMedian: number;
  readonly baselineFpsMin: number;
  /** The same live viewers while the stalled ones are connected. */
  readonly liveFpsMedian: number;
  readonly liveFpsMin: number;
  readonly rssBeforeMb: number;
  readonly rssPeakMb: number;
  readonly rssGrowthMb: number;
  readonly stalledSeen: number;
  /** Most bytes any stalled viewer had queued in user space (write() accepted, kernel full), in parts. */
  readonly pendingPartsMax: number;
  readonly pendingPartsMedian: number;
  readonly stalledFramesDroppedMedian: number;
}

interface LoadReport extends Reply {
  fps: number[];
}

/**
 * Viewers that connect and never read, with a small receive buffer. Node cannot set SO_RCVBUF,
 * and on loopback default buffers hold seconds of video, which would hide what the server keeps;
 * one Python process holds them all. It ends when the bench closes its stdin, or after a bound.
 */
const PYTHON = `
import signal, socket, sys
port, n, path, bound = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
signal.alarm(bound)
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET " + path + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n").encode())
    socks.append(s)
for s in socks:
    s.recv(1)
print("connected", flush=True)
sys.stdin.read()
`;

function openStalled(port: number, count: number, boundSeconds: number): { process: ChildProcess; connected: Promise<void> } {
  const child = spawn('python3', ['-c', PYTHON, String(port), String(count), '/stream.mjpg?cid=stalled', String(boundSeconds)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connected = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stalled viewers did not connect within 30 s')), 30_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`the stalled viewers' python3 exited early (${code})`)));
    child.once('error', (error) => reject(new Error(`cannot run python3 for the stalled viewers: ${error.message}`)));
  });
  connected.catch(() => {});
  return { process: child, connected };
}

interface StatusBody {
  viewers: { list: { id: number; client: string | null; pendingBytes: number; framesDropped: number }[] };
}

export async function runStalled(kind: ServerKind, o: StalledOptions): Promise<StalledResult> {
  const server = startServer(kind, o.picture, o.stalled + o.live);
  const loads: Child[] = [];
  let python: ChildProcess | undefined;
  try {
    const { port } = (await server.ready) as Reply & { port: number };
    loads.push(startLoad(0, o.live));
    await loads[0]!.ready;
    await loads[0]!.request('open', { port, path: '/stream.mjpg?cid=live', count: o.live, rampMs: 500 });
    await sleep(1500);
    await loads[0]!.request('mark');
    await sleep(o.baselineSeconds * 1000);
    const baseline = (await loads[0]!.request('report')) as LoadReport;
    const before = ((await server.request('memory')) as Reply & { rss: number }).rss;

    const stalled = openStalled(port, o.stalled, o.seconds + 60);
    python = stalled.process;
    await stalled.connected;
    await Promise.all([loads[0]!.request('mark'), server.request('mark')]);
    const end = performance.now() + o.seconds * 1000;
    let peak = before;
    const pendingMax = new Map<number, number>();
    let last: StatusBody | undefined;
    while (performance.now() < end) {
      await sleep(Math.min(2000, Math.max(0, end - performance.now())));
      const memory = (await server.request('memory')) as Reply & { rss: number };
      peak = Math.max(peak, memory.rss);
      last = await getStatus<StatusBody>(port, 5000);
      for (const v of last.viewers.list) {
        if (v.client === 'stalled') pendingMax.set(v.id, Math.max(pendingMax.get(v.id) ?? 0, v.pendingBytes));
      }
    }
    const live = (await loads[0]!.request('report')) as LoadReport;
    const written = (await server.request('report')) as Reply & { partBytesMean: number };
    const partBytes = o.partBytes ?? written.partBytesMean;
    // NaN: no part written in the window, so nothing to divide by.
    if (!partBytes) throw new Error('the server wrote no frame during the stalled window');
    const stalledNow = (last?.viewers.list ?? []).filter((v) => v.client === 'stalled');
    const pending = [...pendingMax.values()].map((b) => b / partBytes);
    return {
      server: kind,
      stalled: o.stalled,
      live: o.live,
      seconds: o.seconds,
      baselineFpsMedian: round(median(baseline.fps), 2),
      baselineFpsMin: round(Math.min(...baseline.fps), 2),
      liveFpsMedian: round(median(live.fps), 2),
      liveFpsMin: round(Math.min(...live.fps), 2),
      rssBeforeMb: round(before / 2 ** 20, 0),
      rssPeakMb: round(peak / 2 ** 20, 0),
      rssGrowthMb: round((peak - before) / 2 ** 20, 1),
      stalledSeen: stalledNow.length,
      pendingPartsMax: round(pending.length ? Math.max(...pending) : NaN, 2),
      pendingPartsMedian: round(median(pending), 2),
      stalledFramesDroppedMedian: median(stalledNow.map((v) => v.framesDropped)),
    };
  } catch (error) {
    return {
      server: kind, failure: describeError(error), stalled: o.stalled, live: o.live, seconds: o.seconds,
      baselineFpsMedian: NaN, baselineFpsMin: NaN, liveFpsMedian: NaN, liveFpsMin: NaN, rssBeforeMb: NaN, rssPeakMb: NaN, rssGrowthMb: NaN,
      stalledSeen: NaN, pendingPartsMax: NaN, pendingPartsMedian: NaN, stalledFramesDroppedMedian: NaN,
    };
  } finally {
    python?.stdin?.end();
    python?.kill('SIGKILL');
    await Promise.all([server.stop(), ...loads.map((l) => l.stop())]);
  }
}
