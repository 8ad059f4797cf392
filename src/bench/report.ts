import type { EncodeResult } from './encode.js';
import type { FanoutPoint } from './fanout.js';
import type { MachineInfo } from './machine.js';
import type { StalledResult } from './stalled.js';

/** Everything one run measured, as written to bench/results/*.json. */
export interface BenchResults {
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  /** The pushed JPEG; null when the servers ran a live source instead. */
  readonly fixture: { readonly width: number; readonly height: number; readonly jpegBytes: number; readonly partBytes: number; readonly quality: number } | null;
  /** What the servers sent: `push` (the fixture) or a camcast source spec, with its description. */
  readonly source?: { readonly spec: string; readonly description: string };
  readonly settings: Record<string, unknown>;
  readonly fanout: readonly FanoutPoint[];
  readonly stalled: readonly StalledResult[];
  readonly encode: readonly EncodeResult[];
}

/** A number for a table cell: '-' when not measured, 'none' for a wait that never ended. */
export function cell(value: number | undefined | null, digits = 1): string {
  // null: a NaN that went through JSON (a report rendered again from bench/results).
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  if (value === Infinity) return 'none';
  return value.toFixed(digits);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function ratio(a: number, b: number, digits = 2): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(digits) : '-';
}

/** Every run's fps mean when the point was run several times (this row is the median run). */
function runsCell(p: FanoutPoint): string {
  return p.runs ? p.runs.map((r) => (r.failure ? 'failed' : cell(r.fpsMean, 1))).join(', ') : '';
}

export function fanoutTable(points: readonly FanoutPoint[]): string {
  const rows: string[][] = [];
  const counts = [...new Set(points.map((p) => p.viewers))];
  for (const n of counts) {
    const cam = points.find((p) => p.viewers === n && p.server === 'camcast');
    const ref = points.find((p) => p.viewers === n && p.server === 'reference');
    for (const p of [cam, ref]) {
      if (!p) continue;
      if (p.failure) {
        rows.push([String(n), p.server, `failed: ${p.failure}`, ...Array(16).fill(''), runsCell(p)]);
        continue;
      }
      rows.push([
        String(n),
        p.server,
        cell(p.fpsMedian, 2),
        cell(p.fpsMin, 2),
        cell(p.fpsMean, 2),
        String(p.starved),
        cell(p.mbPerSec, 0),
        cell(p.serverCpuPercent, 0),
        cell(p.serverRssMb, 0),
        cell(p.arrayBuffersMb, 1),
        cell(p.partBuffersPerFrame, 2),
        `${cell(p.ttffMedianMs, 0)} / ${cell(p.ttffMaxMs, 0)}`,
        `${cell(p.latencyP50Ms, 1)} / ${cell(p.latencyP99Ms, 1)}`,
        `${p.badFrames} / ${p.disconnects}`,
        `${cell(p.statusMaxMs, 0)}${p.statusFailures ? ` (${p.statusFailures} failed)` : ''}`,
        p.lateNoFrame ? `${p.lateNoFrame} got none` : cell(p.lateTtffMaxMs, 0),
        String(p.listenOverflows),
        cell(p.serverLoopDelayMaxSinceStartMs, 0),
        `${cell(p.loadCpuPercent, 0)} / ${cell(p.otherBusyPercent, 0)}`,
        runsCell(p),
      ]);
    }
    if (cam && ref && !cam.failure && !ref.failure) {
      rows.push([
        String(n),
        '**ratio**',
        `**${ratio(cam.fpsMedian, ref.fpsMedian)}**`,
        `**${ratio(cam.fpsMin, ref.fpsMin)}**`,
        `**${ratio(cam.fpsMean, ref.fpsMean)}**`,
        '',
        ratio(cam.mbPerSec, ref.mbPerSec),
        ratio(cam.serverCpuPercent, ref.serverCpuPercent),
        ratio(cam.serverRssMb, ref.serverRssMb),
        '',
        '',
        '',
        `${ratio(cam.latencyP50Ms, ref.latencyP50Ms)} / ${ratio(cam.latencyP99Ms, ref.latencyP99Ms)}`,
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
    }
  }
  return table(
    ['viewers', 'server', 'fps median', 'fps min', 'fps mean', 'starved', 'MB/s', 'server CPU %', 'RSS MB', 'arrayBuffers MB', 'part buffers / frame', 'first frame p50 / max ms', 'latency p50 / p99 ms', 'bad / disconnects', 'status max ms', 'late viewers max ms', 'listen drops', 'loop block max ms', 'load / other CPU %', 'fps mean of each run'],
    rows,
  );
}

export function stalledTable(results: readonly StalledResult[]): string {
  return table(
    ['server', 'live fps alone (median / min)', 'live fps with stalled (median / min)', 'RSS before → peak MB', 'RSS growth MB', 'stalled seen', 'pending parts per stalled viewer (max / median)', 'frames dropped per stalled viewer'],
    results.map((r) =>
      r.failure
        ? [r.server, `failed: ${r.failure}`, '', '', '', '', '', '']
        : [
            r.server,
            `${cell(r.baselineFpsMedian, 2)} / ${cell(r.baselineFpsMin, 2)}`,
            `${cell(r.liveFpsMedian, 2)} / ${cell(r.liveFpsMin, 2)}`,
            `${cell(r.rssBeforeMb, 0)} → ${cell(r.rssPeakMb, 0)}`,
            cell(r.rssGrowthMb, 1),
            String(r.stalledSeen),
            `${cell(r.pendingPartsMax, 2)} / ${cell(r.pendingPartsMedian, 2)}`,
            cell(r.stalledFramesDroppedMedian, 0),
          ],
    ),
  );
}

export function encodeTable(results: readonly EncodeResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const size = `${r.width}x${r.height}`;
    if (r.failure) {
      rows.push([size, `failed: ${r.failure}`, '', '', '', '', '']);
      continue;
    }
    const tj = 'megapixelsPerSecond' in r.tjbench ? r.tjbench : undefined;
    if (tj) rows.push([size, 'tjbench (libjpeg-turbo, 1 core)', cell(tj.megapixelsPerSecond, 0), cell(tj.megapixelsPerSecond, 0), '100', '1.00', `${Math.round(tj.bytes / 1000)} KB`, '-']);
    else rows.push([size, `tjbench: ${(r.tjbench as { missing: string }).missing}`, '', '', '', '', '', '']);
    const runs: [string, typeof r.encodeJpeg][] = [
      [`encodeJpeg (${r.encoder ?? 'sharp'}), 1 in flight`, r.encodeJpeg],
      [`encodeJpeg (${r.encoder ?? 'sharp'}), 2 in flight`, r.encodeJpeg2],
      ['sharp fallback (optimiseCoding off), 1 in flight', r.sharpFallback],
      ['sharp defaults (Huffman optimisation on), 1 in flight', r.sharpDefaults],
    ];
    for (const [name, run] of runs) {
      if (!run) continue;
      rows.push([
        size,
        name,
        cell(run.megapixelsPerSecond, 0),
        cell(run.megapixelsPerCpuSecond, 0),
        cell(run.cpuPercent, 0),
        tj ? ratio(run.megapixelsPerCpuSecond, tj.megapixelsPerSecond) : '-',
        `${Math.round(run.bytes / 1000)} KB`,
        cell(run.loopDelayMaxMs, 1),
      ]);
    }
  }
  return table(['size', 'encoder', 'MP/s', 'MP per CPU-second', 'CPU %', 'per core vs tjbench', 'JPEG', 'loop delay max ms'], rows);
}

export function sourcesTable(results: readonly EncodeResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const [name, run] of [['nothing (noise floor)', r.idle], ['test pattern', r.testPattern], ['push() raw RGB', r.pushRaw]] as const) {
      if (!run) continue;
      rows.push([`${r.width}x${r.height}`, name, run === r.idle ? '-' : cell(run.fps, 1), cell(run.cpuPercent, 0), run === r.idle ? '-' : cell(run.loopBusyPerFrameMs, 2), cell(run.loopDelayMaxMs, 1), cell(run.loopDelayP99Ms, 1), cell(run.loopCpuBlockMaxMs, 2), run.pushMaxMs === undefined ? '-' : cell(run.pushMaxMs, 2)]);
    }
  }
  return table(['size', 'source', 'frames/s', 'CPU %', 'loop busy per frame ms', 'loop delay max ms', 'loop delay p99 ms', 'main-thread block max ms', 'push() call max ms'], rows);
}

/** The issue's targets, each with what this run measured and a verdict. */
export function targets(r: BenchResults): string[][] {
  const out: string[][] = [];
  const cam = (n: number) => r.fanout.find((p) => p.server === 'camcast' && p.viewers === n && !p.failure);
  const ref = (n: number) => r.fanout.find((p) => p.server === 'reference' && p.viewers === n && !p.failure);
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : '**not met**');
  const c1792 = cam(1792);
  const r1792 = ref(1792);
  // The reference's figure from the same run says how much of a miss is the machine's that day.
  const ref1792 = r1792 ? ` (reference in this run: ${cell(r1792.fpsMedian, 2)} / ${cell(r1792.fpsMin, 2)})` : '';
  out.push(['1792 viewers: fps median >= 29, min >= 27', c1792 ? `${cell(c1792.fpsMedian, 2)} / ${cell(c1792.fpsMin, 2)}${ref1792}` : '-', verdict(c1792 && c1792.fpsMedian >= 29 && c1792.fpsMin >= 27)]);
  // Where the reference starves viewers its median describes only the ones it serves, so there
  // the comparison is the mean, which counts every viewer (the aggregate frame rate).
  const within = r.fanout
    .filter((p) => p.server === 'camcast' && !p.failure && ref(p.viewers))
    .map((p) => {
      const other = ref(p.viewers)!;
      return { n: p.viewers, median: p.fpsMedian / other.fpsMedian, mean: p.fpsMean / other.fpsMean, refStarved: other.starved };
    });
  out.push([
    'every N: camcast fps within 5 % of the reference (median and mean; where the reference starves viewers, the mean alone)',
    within.map((w) => `${w.n}: ${w.median.toFixed(2)}; ${w.mean.toFixed(2)}${w.refStarved ? ` (reference starved ${w.refStarved})` : ''}`).join(', ') || '-',
    verdict(within.length ? within.every((w) => w.mean >= 0.95 && (w.refStarved > 0 || w.median >= 0.95)) : undefined),
  ]);
  const c3072 = cam(3072);
  const r3072 = ref(3072);
  out.push([
    '3072 viewers: every viewer gets frames, newcomers get frames, /api/status < 1 s',
    c3072
      ? `starved ${c3072.starved}, min fps ${cell(c3072.fpsMin, 2)}, late viewers ${c3072.lateNoFrame ? `${c3072.lateNoFrame} got none` : `max ${cell(c3072.lateTtffMaxMs, 0)} ms`}, status max ${cell(c3072.statusMaxMs, 0)} ms${c3072.statusFailures ? ` (${c3072.statusFailures} failed)` : ''}; reference: starved ${r3072?.starved ?? '-'}`
      : '-',
    verdict(c3072 && c3072.starved === 0 && c3072.lateNoFrame === 0 && c3072.lateTtffMaxMs < 1000 && c3072.statusFailures === 0 && c3072.statusMaxMs < 1000),
  ]);
  const c100 = cam(100);
  out.push(['100 viewers: latency p99 < 33 ms', c100 ? `p99 ${cell(c100.latencyP99Ms, 1)} ms` : '-', verdict(c100 && c100.latencyP99Ms < 33)]);
  const s = r.stalled.find((x) => x.server === 'camcast' && !x.failure);
  out.push([
    'stalled viewers: no effect on live fps',
    s ? `${cell(s.baselineFpsMedian, 2)} / ${cell(s.baselineFpsMin, 2)} alone, ${cell(s.liveFpsMedian, 2)} / ${cell(s.liveFpsMin, 2)} with ${s.stalled} stalled` : '-',
    verdict(s && s.liveFpsMedian >= s.baselineFpsMedian - 0.5 && s.liveFpsMin >= Math.min(29, s.baselineFpsMin - 0.5)),
  ]);
  out.push(['stalled viewers: <= 1 frame pending beyond the kernel buffer', s ? `max ${cell(s.pendingPartsMax, 2)} parts of bytes + 1 frame reference` : '-', verdict(s && s.pendingPartsMax <= 1)]);
  out.push(['stalled viewers: RSS growth < 100 MB', s ? `${cell(s.rssGrowthMb, 1)} MB` : '-', verdict(s && s.rssGrowthMb < 100)]);
  const enc = r.encode.filter((e) => !e.failure && e.ratioPerCore !== undefined);
  out.push([
    'raw encode: >= 80 % of tjbench per core used',
    enc
      .map((e) => {
        const pct = (x: number) => (x * 100).toFixed(0);
        const rounds = (e.roundRatios?.length ?? 0) > 1 ? ` (rounds: ${e.roundRatios!.map(pct).join(', ')} %)` : '';
        return `${e.width}x${e.height}: ${pct(e.ratioPerCore ?? NaN)} %${rounds}`;
      })
      .join(', ') || '-',
    verdict(enc.length ? enc.every((e) => (e.ratioPerCore ?? 0) >= 0.8) : undefined),
  ]);
  // A block is the code holding the loop: the gap between timer ticks less the time the thread
  // waited for a CPU. The wall-clock delay is shown beside it with the idle loop's, the machine's noise.
  const blocks = r.encode.flatMap((e) => [e.testPattern, e.pushRaw]).map((run) => run?.loopCpuBlockMaxMs ?? run?.loopDelayMaxMs).filter((x): x is number => x !== undefined);
  out.push([
    'raw sources: no event-loop block over 5 ms',
    r.encode
      .map((e) => `${e.width}x${e.height}: test ${cell(e.testPattern?.loopCpuBlockMaxMs, 2)}, push ${cell(e.pushRaw?.loopCpuBlockMaxMs, 2)} ms main-thread block (wall-clock delay max: test ${cell(e.testPattern?.loopDelayMaxMs, 1)}, push ${cell(e.pushRaw?.loopDelayMaxMs, 1)}, idle loop ${cell(e.idle?.loopDelayMaxMs, 1)} ms)`)
      .join('; ') || '-',
    verdict(blocks.length ? blocks.every((b) => b <= 5) : undefined),
  ]);
  const shared = r.fanout.filter((p) => p.server === 'camcast' && !p.failure);
  out.push([
    'one buffer per frame shared by all viewers',
    shared.map((p) => `${p.viewers}: ${cell(p.partBuffersPerFrame, 2)} (${cell(p.arrayBuffersMb, 1)} MB)`).join(', ') || '-',
    verdict(shared.length ? shared.every((p) => p.partBuffersPerFrame <= 1.05) : undefined),
  ]);
  return out;
}

export function targetsTable(r: BenchResults): string {
  return table(['target', 'measured', 'verdict'], targets(r));
}
