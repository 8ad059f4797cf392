import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EncodeRun, SourceRun } from './encode-child.js';
import { fixtureRaster, FIXTURE_QUALITY, toPpm } from './fixture.js';
import { Child, type Reply } from './ipc.js';
import { hasCommand } from './machine.js';
import { describeError } from '../errors.js';

const run = promisify(execFile);

export interface EncodeOptions {
  readonly sizes: readonly (readonly [number, number])[];
  readonly grain: number;
  readonly seconds: number;
  /** Rounds of tjbench then encodeJpeg(), alternating, for the per-core ratio. */
  readonly rounds: number;
  readonly fps: number;
  readonly tmpDir: string;
  readonly log: (line: string) => void;
}

export interface TjbenchRun {
  readonly command: string;
  readonly megapixelsPerSecond: number;
  readonly bytes: number;
}

export interface EncodeResult {
  readonly width: number;
  readonly height: number;
  readonly failure?: string;
  readonly tjbench: TjbenchRun | { readonly missing: string };
  readonly sharpConcurrency?: number;
  /** The library encodeJpeg() used. */
  readonly encoder?: string;
  /** camcast's encodeJpeg(), one frame at a time. */
  readonly encodeJpeg?: EncodeRun;
  /** encodeJpeg() with two frames in flight. */
  readonly encodeJpeg2?: EncodeRun;
  /** The sharp fallback (as encodeJpeg calls it), when encodeJpeg uses libjpeg-turbo. */
  readonly sharpFallback?: EncodeRun;
  /** sharp with its default JPEG settings (Huffman optimisation on), for comparison. */
  readonly sharpDefaults?: EncodeRun;
  /** The event loop with nothing to do: the measurement's noise floor on this machine. */
  readonly idle?: SourceRun;
  readonly testPattern?: SourceRun;
  readonly pushRaw?: SourceRun;
  /** encodeJpeg's megapixels per CPU-second over tjbench's single-core megapixels per second, in the median round. */
  readonly ratioPerCore?: number;
  /** That ratio in every round, in the order run. */
  readonly roundRatios?: readonly number[];
}

/** One turn of tjbench and then encodeJpeg(), and the ratio of the two (none without tjbench). */
export interface EncodeRound {
  readonly tj: TjbenchRun | { readonly missing: string };
  readonly encodeJpeg: EncodeRun;
  readonly ratio: number | undefined;
}

/**
 * The round to report: the one with the median ratio (the lower middle one of an even count),
 * or the first round when no ratio was measured; and every measured ratio in the order run.
 */
export function medianRound(rounds: readonly EncodeRound[]): { round: EncodeRound; ratios: number[] } {
  if (rounds.length === 0) throw new Error('no encode rounds');
  const measured = rounds.filter((r) => r.ratio !== undefined).sort((a, b) => a.ratio! - b.ratio!);
  return {
    round: measured[Math.floor((measured.length - 1) / 2)] ?? rounds[0]!,
    ratios: rounds.flatMap((r) => (r.ratio === undefined ? [] : [r.ratio])),
  };
}

const ENCODE_MODULE = new URL('./encode-child.js', import.meta.url);

export async function runEncode(o: EncodeOptions): Promise<EncodeResult[]> {
  const results: EncodeResult[] = [];
  for (const [width, height] of o.sizes) {
    const child = new Child('encoder', ENCODE_MODULE);
    let tj: EncodeRound['tj'] = { missing: 'not run' };
    try {
      await child.ready;
      // The machine's speed drifts from one minute to the next (other tenants share its caches
      // and memory bus), so tjbench and encodeJpeg() take turns, and the round with the median
      // ratio is reported: both sides of each ratio ran within seconds of each other.
      const rounds: EncodeRound[] = [];
      for (let i = 1; i <= o.rounds; i++) {
        o.log(`encode ${width}x${height}: tjbench, then encodeJpeg (round ${i} of ${o.rounds})...`);
        const t = await tjbench(width, height, o);
        const e = ((await child.request('encode', { width, height, grain: o.grain, seconds: o.seconds }, o.seconds * 10_000 + 60_000)) as Reply & { run: EncodeRun }).run;
        rounds.push({ tj: t, encodeJpeg: e, ratio: 'megapixelsPerSecond' in t ? e.megapixelsPerCpuSecond / t.megapixelsPerSecond : undefined });
      }
      const { round: median, ratios } = medianRound(rounds);
      tj = median.tj;
      o.log(`encode ${width}x${height}: encodeJpeg with 2 in flight, sharp, raw sources...`);
      const r = (await child.request('run', { width, height, grain: o.grain, seconds: o.seconds, fps: o.fps }, o.seconds * 10_000 + 60_000)) as Reply & Omit<EncodeResult, 'width' | 'height' | 'tjbench'>;
      results.push({
        width,
        height,
        tjbench: tj,
        sharpConcurrency: r.sharpConcurrency,
        encoder: r.encoder,
        sharpFallback: r.sharpFallback,
        encodeJpeg: median.encodeJpeg,
        encodeJpeg2: r.encodeJpeg2,
        sharpDefaults: r.sharpDefaults,
        idle: r.idle,
        testPattern: r.testPattern,
        pushRaw: r.pushRaw,
        ratioPerCore: median.ratio,
        ...(ratios.length ? { roundRatios: ratios } : {}),
      });
    } catch (error) {
      results.push({ width, height, tjbench: tj, failure: describeError(error) });
    } finally {
      await child.stop();
    }
  }
  return results;
}

/** libjpeg-turbo's own single-core compression figure for the same picture and settings. */
async function tjbench(width: number, height: number, o: EncodeOptions): Promise<TjbenchRun | { missing: string }> {
  if (!hasCommand('tjbench')) return { missing: "tjbench not found (Debian: apt-get install libjpeg-turbo-progs)" };
  const ppm = join(o.tmpDir, `fixture-${width}x${height}.ppm`);
  writeFileSync(ppm, toPpm(fixtureRaster(width, height, o.grain)));
  const args = [ppm, String(FIXTURE_QUALITY), '-rgb', '-subsamp', '420', '-componly', '-nowrite', '-warmup', '1', '-benchtime', String(o.seconds), '-fastdct'];
  try {
    const { stdout } = await run('tjbench', args, { timeout: (o.seconds + 30) * 1000 });
    const mp = /Throughput:\s*([\d.]+)\s*Megapixels\/sec/.exec(stdout);
    const bytes = /Output image size:\s*(\d+)/.exec(stdout);
    if (!mp) return { missing: `could not read tjbench's output: ${stdout.slice(0, 200)}` };
    return { command: `tjbench fixture-${width}x${height}.ppm ${args.slice(1).join(' ')}`, megapixelsPerSecond: Number(mp[1]), bytes: Number(bytes?.[1] ?? NaN) };
  } catch (error) {
    return { missing: `tjbench failed: ${describeError(error)}` };
  }
}
