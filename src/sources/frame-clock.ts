/**
 * Calls `tick` at a steady rate without drift: each deadline is computed from the start time,
 * not from the previous callback, and ticks missed while the process was busy are skipped rather
 * than fired in a burst (a burst would only produce frames that viewers drop anyway).
 */
export class FrameClock {
  readonly #intervalMs: number;
  readonly #tick: () => void;
  #timer: NodeJS.Timeout | undefined;
  readonly #immediate: boolean;
  #next = 0;

  /** `immediate`: the first tick comes at start(), not one interval after it. */
  constructor(fps: number, tick: () => void, { immediate = false }: { immediate?: boolean } = {}) {
    this.#intervalMs = 1000 / fps;
    this.#tick = tick;
    this.#immediate = immediate;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer) return;
    this.#next = performance.now();
    if (this.#immediate) {
      // A turn later, not inside start(): whatever its caller did first (a test card built for
      // 1080p) and the first frame are then two short blocks of the event loop, not one long one.
      this.#timer = setTimeout(() => {
        this.#schedule();
        this.#tick();
      }, 0);
      return;
    }
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const now = performance.now();
    this.#next += this.#intervalMs;
    if (this.#next < now) {
      this.#next = now + this.#intervalMs - ((now - this.#next) % this.#intervalMs);
    }
    this.#timer = setTimeout(() => {
      this.#schedule();
      this.#tick();
    }, Math.max(0, this.#next - now));
  }
}
