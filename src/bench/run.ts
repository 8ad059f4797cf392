#!/usr/bin/env node
/**
 * `npm run bench`: camcast against a bare node:http reference server on this machine, in three
 * scenarios (fan-out, stalled viewers, raw encode). Prints a table per scenario, writes the
 * figures as JSON and, for a full run, rewrites BENCHMARKS.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isFullRun, isIssuePicture, ISSUE_PICTURE, parseBenchArgs, PUSH, SATURATED_VIEWERS, USAGE, type BenchOptions } from './args.js';
import { checkLiveSource, pushDescription, type BenchPicture } from './bench-source.js';
import { runEncode, type EncodeResult } from './encode.js';
import { medianRun, runFanoutPoint, type FanoutPoint } from './fanout.js';
import { fixture, fixtureRaster, FIXTURE_QUALITY } from './fixture.js';
import { cpuTimes, machineBusyPercent, machineInfo, type MachineInfo } from './machine.js';
import { MultipartEncoder } from '../http/multipart-encoder.js';
import { encodeJpeg } from '../raster/encode-jpeg.js';
import { cell, encodeTable, fanoutTable, sourcesTable, stalledTable, targetsTable, type BenchResults } from './report.js';
import { runStalled, type StalledResult } from './stalled.js';
import { markdown } from './markdown.js';
import { describeError } from '../errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/**
 * Waits (at most `maxMs`) until the machine is nearly idle, so another program's burst does not
 * land in a measurement; says so when it gives up. Returns the busy share seen last.
 */
async function waitForQuiet(cpus: number, maxMs = 10_000, thresholdPercent = 40): Promise<number> {
  const deadline = performance.now() + maxMs;
  let busy = NaN;
  for (;;) {
    const a = cpuTimes();
    await sleep(500);
    busy = machineBusyPercent(a, cpuTimes(), cpus);
    if (!(busy > thresholdPercent) || performance.now() > deadline) break;
  }
  if (busy > thresholdPercent) log(`the machine is busy (${Math.round(busy)} % of one core used by other programs); measuring anyway`);
  return busy;
}

async function main(o: BenchOptions): Promise<number> {
  const started = Date.now();
  /**
   * Turns of tjbench and encodeJpeg() for the per-core ratio (see runEncode). Five, as the
   * fan-out's repeats: in full runs a round now and then came out 10-20 points below the
   * others (the machine's drift); the median of five stands through two such rounds.
   */
  const encodeRounds = o.quick ? 1 : 5;
  const machine: MachineInfo = machineInfo();
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'camcast-bench-'));
  try {
    const { width, height } = o;
    const live = o.source !== PUSH;
    const picture: BenchPicture = { source: o.source, jpegPath: join(tmpDir, 'fixture.jpg'), width, height, fps: o.fps };
    // First, so a typo is one line at once, before any picture is built or server started.
    let description = '';
    if (live) {
      try {
        description = await checkLiveSource(picture);
      } catch (error) {
        log(`--source ${o.source}: ${describeError(error)}`);
        return 2;
      }
    }
    // The grain that makes a 720p frame about 50 KB, as a camera's, is kept at every size (and
    // by the encode scenario), so a larger picture costs what a camera's larger picture would.
    const fx = !live || o.scenarios.includes('encode') ? await fixture(1280, 720, 50_000) : undefined;
    let pushed: BenchResults['fixture'] = null;
    if (fx && !live) {
      const jpeg = width === 1280 && height === 720 ? fx.jpeg : await encodeJpeg(fixtureRaster(width, height, fx.grain), FIXTURE_QUALITY);
      writeFileSync(picture.jpegPath, jpeg);
      // The fixture is a picture the encoder made: it holds no delimiter, so it always has a part.
      const partBytes = new MultipartEncoder().part({ jpeg, seq: 1, capturedAt: Date.now() })!.length;
      pushed = { width, height, jpegBytes: jpeg.length, partBytes, quality: FIXTURE_QUALITY };
      description = pushDescription(picture, jpeg.length);
    }
    log(`source: ${description}${live ? '' : ` (quality ${FIXTURE_QUALITY})`}; ${machine.cpus} CPUs, ${machine.cpuModel}, node ${machine.node}, open files ${machine.openFiles.soft}`);

    const fanout: FanoutPoint[] = [];
    if (o.scenarios.includes('fanout')) {
      let turn = 0;
      for (const n of o.viewers) {
        const repeats = n >= SATURATED_VIEWERS ? o.repeat : 1;
        const runs = new Map<string, FanoutPoint[]>(o.servers.map((kind) => [kind, []]));
        for (let r = 0; r < repeats; r++) {
          // Alternate which server goes first, so a drift in the machine's load favours neither.
          const order = turn++ % 2 === 0 ? o.servers : [...o.servers].reverse();
          for (const kind of order) {
            await waitForQuiet(machine.cpus);
            log(`fan-out: ${kind}, ${n} viewers, ${o.seconds} s${repeats > 1 ? `, run ${r + 1} of ${repeats}` : ''}...`);
            const point = await runFanoutPoint(kind, n, {
              picture, rampMs: 2000, settleMs: 1000, seconds: o.seconds,
              loadProcesses: 2, lateViewers: 8, cpus: machine.cpus, log,
            });
            runs.get(kind)!.push(point);
            log(point.failure ? `  failed: ${point.failure}` : `  fps ${point.fpsMedian} median / ${point.fpsMin} min, ${point.mbPerSec} MB/s, latency p99 ${point.latencyP99Ms} ms`);
          }
        }
        for (const kind of o.servers) fanout.push(medianRun(runs.get(kind)!));
      }
      // What each server really sent, read back from its frames (a camera may not honour --size),
      // and named by the server itself when that is not the picture asked for.
      const sentLine = o.servers
        .map((kind) => {
          const sent = fanout.find((p) => p.server === kind && !p.failure);
          const other = sent?.description && sent.description !== description ? ` from ${sent.description}` : '';
          return `${kind} sent ${sent?.frameSize ?? 'no frame'}${other}, ${sent ? cell(sent.partBytesMean, 0) : '-'} B per part`;
        })
        .join(', ');
      process.stdout.write(`\nFan-out (${description}; ${sentLine}; ${o.seconds} s window)\n${fanoutTable(fanout)}\n`);
    }

    const stalled: StalledResult[] = [];
    if (o.scenarios.includes('stalled')) {
      for (const kind of o.servers) {
        await waitForQuiet(machine.cpus);
        log(`stalled: ${kind}, 100 stalled + 50 live viewers, ${o.stalledSeconds} s...`);
        stalled.push(await runStalled(kind, { picture, ...(pushed ? { partBytes: pushed.partBytes } : {}), stalled: 100, live: 50, seconds: o.stalledSeconds, baselineSeconds: o.quick ? 2 : 5, log }));
      }
      process.stdout.write(`\nStalled viewers (100 stalled, 50 live, ${o.stalledSeconds} s)\n${stalledTable(stalled)}\n`);
    }

    let encode: EncodeResult[] = [];
    if (o.scenarios.includes('encode')) {
      await waitForQuiet(machine.cpus);
      encode = await runEncode({ sizes: [[1280, 720], [1920, 1080]], grain: fx!.grain, seconds: o.encodeSeconds, rounds: encodeRounds, fps: o.fps, tmpDir, log });
      process.stdout.write(`\nRaw encode (quality ${FIXTURE_QUALITY}, 4:2:0)\n${encodeTable(encode)}\n\nRaw sources at ${o.fps} fps\n${sourcesTable(encode)}\n`);
    }

    const results: BenchResults = {
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      startedAt: new Date(started).toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine,
      fixture: pushed,
      source: { spec: o.source, description },
      settings: { ...o, encodeRounds, rampMs: 2000, settleMs: 1000, loadProcesses: 2, lateViewers: 8 },
      fanout,
      stalled,
      encode,
    };
    const issue = `one ${ISSUE_PICTURE.width}x${ISSUE_PICTURE.height} JPEG pushed at ${ISSUE_PICTURE.fps} fps`;
    const asked = live ? `, asked for ${width}x${height} at ${o.fps} fps` : '';
    const caveat = isIssuePicture(o) ? '' : ` (set for ${issue}; this run: ${description}${asked}; the ratios apply, the absolute figures do not)`;
    process.stdout.write(`\nTargets${caveat}\n${targetsTable(results)}\n`);
    if (o.write) {
      const dir = join(ROOT, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const full = isFullRun(o);
      const json = join(dir, full ? 'latest.json' : 'partial.json');
      writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
      log(`wrote ${json}`);
      if (full) {
        writeFileSync(join(ROOT, 'BENCHMARKS.md'), markdown(results));
        log(`wrote ${join(ROOT, 'BENCHMARKS.md')}`);
      }
    }
    log(`done in ${results.durationSeconds} s`);
    return 0;
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

let options: BenchOptions;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
