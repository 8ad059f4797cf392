/**
 * The encode scenario's measurements, in a process of their own so CPU time and event-loop
 * delay belong to the encoder alone. Raw frames are the bench's fixture picture.
 */
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import sharp from 'sharp';
import { encodeJpeg, jpegEncoder, jpegEncoders, type RawImage } from '../raster/encode-jpeg.js';
import { FrameClock } from '../sources/frame-clock.js';
import { push } from '../sources/push.js';
import { testPattern } from '../sources/test-pattern.js';
import { fixtureRaster, FIXTURE_QUALITY } from './fixture.js';
import { serveCommands } from './ipc.js';
import { LoopBlockProbe } from './loop-block.js';

sharp.cache(false);

export interface EncodeRun {
  readonly frames: number;
  readonly seconds: number;
  readonly fps: number;
  readonly megapixelsPerSecond: number;
  /** Megapixels per CPU-second of this process (all its threads): throughput per core used. */
  readonly megapixelsPerCpuSecond: number;
  readonly cpuPercent: number;
  readonly bytes: number;
  readonly loopDelayMaxMs: number;
}

export interface SourceRun {
  readonly fps: number;
  readonly frames: number;
  readonly cpuPercent: number;
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
  /** The longest the code held the loop: wall-clock gaps less time the thread waited for a CPU (see LoopBlockProbe). */
  readonly loopCpuBlockMaxMs: number | undefined;
  /** Event-loop busy time per frame (eventLoopUtilization), less the idle loop's own: the JS work each frame costs. */
  readonly loopBusyPerFrameMs: number;
  /** For the idle run: the loop's busy milliseconds. */
  readonly idleActiveMs?: number;
  /** Longest synchronous push() call (copying the raw frame), for the push source. */
  readonly pushMaxMs?: number;
}

const MAX_FRAMES = 5000;
/** Busy milliseconds per second of the loop with nothing to do (the delay monitor's own timer), from the idle run. */
let idleActivePerSecond = 0;

async function measure(raw: RawImage, seconds: number, lanes: number, encode: (raw: RawImage) => Promise<Buffer>): Promise<EncodeRun> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  for (let i = 0; i < 3; i++) await encode(raw); // warm-up
  loop.enable();
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = start + seconds * 1000;
  let frames = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < deadline && frames < MAX_FRAMES) {
        bytes = (await encode(raw)).length;
        frames++;
      }
    }),
  );
  const s = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const mp = (frames * raw.width * raw.height) / 1e6;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    frames,
    seconds: s,
    fps: frames / s,
    megapixelsPerSecond: mp / s,
    megapixelsPerCpuSecond: mp / cpuSeconds,
    cpuPercent: (cpuSeconds / s) * 100,
    bytes,
    loopDelayMaxMs: loop.max / 1e6,
  };
}

/**
 * Runs a live source at `fps` for `seconds` and watches the event loop meanwhile ('idle': no
 * source, the noise floor). Measuring starts after WARM_UP_MS: the first frames do what later
 * frames reuse (the test card draws its static background once; push() faults in the pages of
 * the buffer it recycles from then on), and the target is about every frame, not start-up.
 */
const WARM_UP_MS = 1000;

async function runSource(kind: 'test' | 'push' | 'idle', raw: RawImage, fps: number, seconds: number): Promise<SourceRun> {
  const { width, height } = raw;
  let frames = 0;
  let pushMaxMs = 0;
  const sink = { frame: () => void frames++, failed: () => {}, ended: () => {} };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let stop: () => Promise<void>;
  if (kind === 'idle') {
    stop = async () => {};
  } else if (kind === 'test') {
    const source = testPattern({ width, height, fps, quality: FIXTURE_QUALITY });
    await source.start(sink as never);
    stop = () => source.stop();
  } else {
    const source = push({ quality: FIXTURE_QUALITY });
    await source.start(sink as never);
    const clock = new FrameClock(fps, () => {
      const t = performance.now();
      source.push(raw);
      pushMaxMs = Math.max(pushMaxMs, performance.now() - t);
    });
    clock.start();
    stop = async () => {
      clock.stop();
      await source.stop();
    };
  }
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));
  frames = 0;
  pushMaxMs = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  loop.enable();
  const probe = new LoopBlockProbe();
  probe.start();
  const elu0 = perf.eventLoopUtilization();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elu = perf.eventLoopUtilization(elu0);
  const cpuBlockMaxMs = probe.stop();
  loop.disable();
  const s = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const measured = frames;
  await stop();
  return {
    fps: measured / s,
    frames: measured,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / s) * 100,
    loopDelayMaxMs: loop.max / 1e6,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopCpuBlockMaxMs: cpuBlockMaxMs,
    loopBusyPerFrameMs: measured > 0 ? Math.max(0, elu.active - idleActivePerSecond * seconds) / measured : NaN,
    ...(kind === 'push' ? { pushMaxMs } : {}),
    ...(kind === 'idle' ? { idleActiveMs: elu.active } : {}),
  };
}

/** The fixture raster last asked for: building one takes longer than an encode round. */
let cached: { key: string; raster: RawImage } | undefined;
function raster(width: number, height: number, grain: number): RawImage {
  const key = `${width}x${height}/${grain}`;
  if (cached?.key !== key) cached = { key, raster: fixtureRaster(width, height, grain) };
  return cached.raster;
}

serveCommands({
  /** One round of encodeJpeg(), one frame in flight: the bench alternates these with tjbench. */
  encode: async ({ width, height, grain, seconds }) => ({
    run: await measure(raster(width as number, height as number, grain as number), seconds as number, 1, (r) => encodeJpeg(r, FIXTURE_QUALITY)),
  }),
  run: async ({ width, height, grain, seconds, fps }) => {
    const raw = raster(width as number, height as number, grain as number);
    const s = seconds as number;
    // sharp's own defaults (Huffman optimisation on), to show what encodeJpeg's choice saves.
    const sharpDefaults = (r: RawImage) =>
      sharp(r.data, { raw: { width: r.width, height: r.height, channels: r.channels } })
        .jpeg({ quality: FIXTURE_QUALITY, chromaSubsampling: '4:2:0' })
        .toBuffer();
    return {
      sharpConcurrency: sharp.concurrency(),
      encoder: jpegEncoder,
      idle: await runSource('idle', raw, fps as number, Math.min(s, 2)).then((idle) => {
        idleActivePerSecond = idle.idleActiveMs! / Math.min(s, 2);
        return idle;
      }),
      encodeJpeg2: await measure(raw, s, 2, (r) => encodeJpeg(r, FIXTURE_QUALITY)),
      ...(jpegEncoder === 'sharp' ? {} : { sharpFallback: await measure(raw, s, 1, (r) => jpegEncoders.get('sharp')!(r, FIXTURE_QUALITY)) }),
      sharpDefaults: await measure(raw, s, 1, sharpDefaults),
      testPattern: await runSource('test', raw, fps as number, s),
      pushRaw: await runSource('push', raw, fps as number, s),
    };
  },
  stop: () => {
    setImmediate(() => process.exit(0));
    return {};
  },
});
process.send?.({ id: 0, ok: true, ready: true });
