/**
 * Number helpers for the bench: a fixed-size latency histogram that processes can merge, and
 * percentiles of plain arrays.
 */

const FINE_MS = 0.1;
const FINE_BUCKETS = 10_000; // 0-1000 ms in 0.1 ms steps
const COARSE_MS = 10;
const COARSE_BUCKETS = 6_000; // 1-61 s in 10 ms steps

/** Latencies in milliseconds: 0.1 ms resolution below 1 s, 10 ms up to a minute, constant memory. */
export class LatencyHistogram {
  readonly counts = new Uint32Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
  count = 0;
  /** Samples below zero (clock skew between processes); kept in the first bucket. */
  negative = 0;
  max = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    if (ms < 0) this.negative++;
    const v = Math.max(0, ms);
    const i = v < FINE_BUCKETS * FINE_MS ? Math.floor(v / FINE_MS) : Math.min(FINE_BUCKETS + Math.floor((v - FINE_BUCKETS * FINE_MS) / COARSE_MS), this.counts.length - 1);
    this.counts[i]!++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.negative = 0;
    this.max = 0;
  }

  /** Non-empty buckets as [index, count] pairs: small enough to send over IPC. */
  toSparse(): SparseHistogram {
    const buckets: [number, number][] = [];
    this.counts.forEach((c, i) => {
      if (c > 0) buckets.push([i, c]);
    });
    return { buckets, count: this.count, negative: this.negative, max: this.max };
  }

  merge(other: SparseHistogram): void {
    for (const [i, c] of other.buckets) this.counts[i]! += c;
    this.count += other.count;
    this.negative += other.negative;
    this.max = Math.max(this.max, other.max);
  }

  /** The upper edge of the bucket holding the p-th percentile (0-100); NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(i < FINE_BUCKETS ? (i + 1) * FINE_MS : FINE_BUCKETS * FINE_MS + (i - FINE_BUCKETS + 1) * COARSE_MS, this.max);
    }
    return this.max;
  }
}

export interface SparseHistogram {
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly negative: number;
  readonly max: number;
}

/** Nearest-rank percentile of unsorted numbers; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 1): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
