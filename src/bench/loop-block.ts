import { closeSync, openSync, readSync } from 'node:fs';

const TICK_MS = 1;

/**
 * Measures how long the code holds the event loop, apart from how long the machine keeps the
 * loop's thread off a CPU. On a shared two-core machine an idle loop's wall-clock delay alone
 * reaches several milliseconds (its thread waits for a CPU), which hides what the code costs.
 *
 * A 1 ms timer reads, at each tick, the main thread's `run_delay` from Linux's
 * /proc/self/task/<pid>/schedstat: the time it spent runnable but waiting for a CPU, brought up
 * to date whenever the thread is switched back in (so it is exact when the thread reads it).
 * A block is then the gap between two ticks less that wait. It errs high, by at most the 1 ms
 * between ticks, never low. (The file's first field, run time, is not used: for a running thread
 * it lags by up to a scheduler tick.) Reading the file costs about 7 % of a core, in every run.
 */
export class LoopBlockProbe {
  readonly #buffer = Buffer.alloc(128);
  #fd: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastWall = 0;
  #lastWait = 0;
  #max = 0;

  start(): void {
    try {
      this.#fd = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
    } catch {
      return;
    }
    this.#lastWall = performance.now();
    this.#lastWait = this.#waitNs();
    this.#timer = setInterval(() => {
      const wall = performance.now();
      const wait = this.#waitNs();
      this.#max = Math.max(this.#max, wall - this.#lastWall - (wait - this.#lastWait) / 1e6);
      this.#lastWall = wall;
      this.#lastWait = wait;
    }, TICK_MS);
  }

  /** The longest block in milliseconds, or undefined where it cannot be measured. */
  stop(): number | undefined {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#fd === undefined) return undefined;
    closeSync(this.#fd);
    this.#fd = undefined;
    return this.#max;
  }

  #waitNs(): number {
    const n = readSync(this.#fd!, this.#buffer, 0, this.#buffer.length, 0);
    return Number(this.#buffer.toString('latin1', 0, n).split(' ')[1]);
  }
}
