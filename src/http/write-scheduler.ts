/** A viewer with a frame to send: the scheduler calls flush() when its turn comes. */
export interface ScheduledWriter {
  flush(): void;
}

export interface WriteSchedulerOptions {
  /** How long one turn of writes may run before the event loop gets a turn. */
  readonly sliceMs?: number;
}

/**
 * Spreads one frame's writes to many viewers over several turns of the event loop.
 *
 * libuv accepts one connection per turn of the loop (since 1.45, for fairness between
 * processes). A server that writes each frame to 3,000 sockets in one synchronous burst turns
 * its loop a few dozen times a second once saturated, so its listen queue fills up and new
 * viewers, and GET /api/status, wait for the kernel's SYN retransmits (1 s, 3 s, 7 s...) or get
 * nothing at all. Writing in slices of about a millisecond keeps the loop turning, so accepting
 * and answering keep pace while every viewer's frame rate degrades evenly.
 *
 * Viewers are served first come, first served; a viewer is queued at most once (see MjpegViewer
 * for which frames it keeps meanwhile), so the queue never holds more entries than there are
 * viewers.
 *
 * One chain of setImmediate turns runs while the queue holds anyone. The handle stays set
 * through a turn, so a writer scheduled from inside a flush joins the queue instead of starting
 * a second chain: each extra chain adds a slice to every turn, and enough of them starve accept().
 */
export class WriteScheduler {
  readonly #sliceMs: number;
  #queue: (ScheduledWriter | undefined)[] = [];
  #head = 0;
  #immediate: NodeJS.Immediate | undefined;
  /** When the queue last went from empty to busy (performance.now()). */
  #busySince = 0;

  constructor({ sliceMs = 1 }: WriteSchedulerOptions = {}) {
    this.#sliceMs = sliceMs;
  }

  /** Writers waiting for their turn. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * How long writers have been waiting without the queue ever running empty, in ms; 0 while
   * idle. Below a frame interval the fan-out keeps up; a little above, it ran past the next
   * frame and usually catches up within one; far above, the machine is past its limit.
   */
  busyMs(now = performance.now()): number {
    return this.#immediate ? now - this.#busySince : 0;
  }

  /** Queues one flush() of `writer`. The caller queues each writer at most once at a time. */
  schedule(writer: ScheduledWriter): void {
    this.#queue.push(writer);
    if (this.#immediate) return;
    this.#busySince = performance.now();
    this.#immediate = setImmediate(this.#run);
  }

  readonly #run = (): void => {
    const deadline = performance.now() + this.#sliceMs;
    const queue = this.#queue;
    // At least one write per turn, so a slow machine still makes progress.
    do {
      const writer = queue[this.#head];
      queue[this.#head++] = undefined;
      try {
        writer?.flush();
      } catch {
        // A viewer must not stop the others; its own response reports its errors.
      }
    } while (this.#head < queue.length && performance.now() < deadline);
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      this.#immediate = undefined;
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#immediate = setImmediate(this.#run);
  };
}
