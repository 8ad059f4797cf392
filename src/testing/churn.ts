import net from 'node:net';

export interface ChurnOptions {
  readonly port: number;
  readonly path?: string;
  readonly cycles: number;
  readonly concurrency?: number;
  /** Give up on a cycle after this long (a bound, not a target). */
  readonly cycleTimeoutMs?: number;
  /** The third kind of viewer hangs up after this many bytes (a few frames). */
  readonly afterBytes?: number;
}

export interface ChurnResult {
  readonly cycles: number;
  /** Cut before the response arrived. */
  readonly cutEarly: number;
  /** Cut in the middle of a part. */
  readonly cutMidFrame: number;
  /** Closed after whole parts. */
  readonly cutAfterFrames: number;
  readonly failed: number;
}

/**
 * Viewers that come and go as fast as they can: each connects, asks for the stream, and hangs
 * up at a different moment (before the answer, inside a frame, after a few frames) by
 * destroying its socket, as a closed browser tab or a dropped Wi-Fi link does.
 */
export async function runChurn({ port, path = '/stream.mjpg', cycles, concurrency = 8, cycleTimeoutMs = 5000, afterBytes = 256 * 1024 }: ChurnOptions): Promise<ChurnResult> {
  let next = 0;
  const counts = { cutEarly: 0, cutMidFrame: 0, cutAfterFrames: 0, failed: 0 };
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const mode = i % 3;
      const socket = net.connect(port, '127.0.0.1');
      let received = 0;
      let done = false;
      const finish = (key: keyof typeof counts) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        counts[key]++;
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(() => finish('failed'), cycleTimeoutMs);
      socket.once('connect', () => {
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        if (mode === 0) finish('cutEarly');
      });
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // The first chunk is headers plus the start of a frame: hanging up now cuts mid-frame.
        if (mode === 1) finish('cutMidFrame');
        else if (mode === 2 && received > afterBytes) finish('cutAfterFrames');
      });
      socket.once('error', () => finish('failed'));
      socket.once('close', () => finish(mode === 0 ? 'cutEarly' : 'failed'));
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < cycles) await one(next++);
  });
  await Promise.all(workers);
  return { cycles, ...counts };
}
