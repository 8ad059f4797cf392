import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { EncodeRun, SourceRun } from './encode-child.js';
import { fixtureRaster, FIXTURE_QUALITY, toPpm } from './fixture.js';
import { Child, type Reply } from './ipc.js';
import { hasCommand } from './machine.js';

const run = promisify(execFile);

export interface EncodeOptions {
  readonly sizes: readonly (readonly [number, number])[];
  readonly grain: number;
  readonly seconds: number;
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
  /** encodeJpeg's megapixels per CPU-second over tjbench's single-core megapixels per second. */
  readonly ratioPerCore?: number;
}

const ENCODE_MODULE = new URL('./encode-child.js', import.meta.url);

export async function runEncode(o: EncodeOptions): Promise<EncodeResult[]> {
  const results: EncodeResult[] = [];
  for (const [width, height] of o.sizes) {
    o.log(`encode ${width}x${height}: tjbench...`);
    const tj = await tjbench(width, height, o);
    o.log(`encode ${width}x${height}: encodeJpeg and sharp...`);
    const child = new Child('encoder', ENCODE_MODULE);
    try {
      await child.ready;
      const r = (await child.request('run', { width, height, grain: o.grain, seconds: o.seconds, fps: o.fps }, o.seconds * 10_000 + 60_000)) as Reply & Omit<EncodeResult, 'width' | 'height' | 'tjbench'>;
      const ratio = 'megapixelsPerSecond' in tj && r.encodeJpeg ? r.encodeJpeg.megapixelsPerCpuSecond / tj.megapixelsPerSecond : undefined;
      results.push({
        width,
        height,
        tjbench: tj,
        sharpConcurrency: r.sharpConcurrency,
        encoder: r.encoder,
        sharpFallback: r.sharpFallback,
        encodeJpeg: r.encodeJpeg,
        encodeJpeg2: r.encodeJpeg2,
        sharpDefaults: r.sharpDefaults,
        idle: r.idle,
        testPattern: r.testPattern,
        pushRaw: r.pushRaw,
        ratioPerCore: ratio,
      });
    } catch (error) {
      results.push({ width, height, tjbench: tj, failure: error instanceof Error ? error.message : String(error) });
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
    return { missing: `tjbench failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}
