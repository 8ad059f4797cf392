import { readFileSync } from 'node:fs';

export interface LoopBlocks {
  /** Longest gap between two ticks of a 1 ms timer, on the wall clock: includes time the thread waited for a CPU. */
  readonly wallMaxMs: number;
  /**
   * Longest stretch of the main thread's own CPU time between two ticks: the work that held the
   * loop, without the time other programs held the CPU. Undefined where Linux's schedstat is missing.
   */
  readonly cpuMaxMs: number | undefined;
}

/**
 * Measures the event loop's longest block with a 1 ms timer. On a shared two-core machine the
 * wall-clock gap alone reaches 4 ms with an idle loop (the thread waits for a CPU), which hides
 * what the code itself costs; so the probe also reads the main thread's CPU time from
 * /proc/self/task/<pid>/schedstat (nanoseconds) at every tick.
 */
export class LoopBlockProbe {
  readonly #schedstat = `/proc/self/task/${process.pid}/schedstat`;
  #timer: NodeJS.Timeout | undefined;
  #hasCpu = true;
  #lastWall = 0;
  #lastCpu = 0;
  #wallMax = 0;
  #cpuMax = 0;

  start(): void {
    this.#lastWall = performance.now();
    this.#lastCpu = this.#cpuNs();
    this.#timer = setInterval(() => {
      const wall = performance.now();
      const cpu = this.#cpuNs();
      this.#wallMax = Math.max(this.#wallMax, wall - this.#lastWall);
      this.#cpuMax = Math.max(this.#cpuMax, (cpu - this.#lastCpu) / 1e6);
      this.#lastWall = wall;
      this.#lastCpu = cpu;
    }, 1);
  }

  stop(): LoopBlocks {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return { wallMaxMs: this.#wallMax, cpuMaxMs: this.#hasCpu ? this.#cpuMax : undefined };
  }

  #cpuNs(): number {
    if (!this.#hasCpu) return 0;
    try {
      return Number(readFileSync(this.#schedstat, 'latin1').split(' ')[0]);
    } catch {
      this.#hasCpu = false;
      return 0;
    }
  }
}
