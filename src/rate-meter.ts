/**
 * Events per second over a sliding window, from a fixed ring of timestamps: constant memory
 * however long it runs, and no timer of its own.
 */
export class RateMeter {
  readonly #times: Float64Array;
  readonly #windowMs: number;
  #next = 0;
  #count = 0;

  constructor({ capacity = 128, windowMs = 2000 }: { capacity?: number; windowMs?: number } = {}) {
    this.#times = new Float64Array(capacity);
    this.#windowMs = windowMs;
  }

  record(now = performance.now()): void {
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % this.#times.length;
    if (this.#count < this.#times.length) this.#count++;
  }

  /** Events per second among those inside the window that ends now. */
  rate(now = performance.now()): number {
    const cap = this.#times.length;
    let oldest = Infinity;
    let n = 0;
    for (let i = 1; i <= this.#count; i++) {
      const t = this.#times[(this.#next - i + cap) % cap]!;
      if (now - t > this.#windowMs) break;
      oldest = t;
      n++;
    }
    if (n < 2) return 0;
    // n events span n-1 intervals; measuring up to "now" makes a stopped source decay to 0.
    const span = now - oldest;
    return span > 0 ? ((n - 1) * 1000) / span : 0;
  }
}
