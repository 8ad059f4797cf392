import { connectionKey, procTable, readSendQueues, type ProcTable, type SendQueueReading, type SendQueues } from './send-queue.js';

/** What SendQueueWatch needs of a viewer (an MjpegViewer). */
export interface QueuedViewer {
  connection(): { readonly remoteAddress: string; readonly remotePort: number; readonly localPort: number } | undefined;
  /** Bytes handed to its socket so far. */
  bytesSent(): number;
  readonly partBytes: number;
  readonly heldBack: number;
  limitSending(bytes: number | undefined): void;
  /** Its queue went down by a part's worth: it is reading, however slowly. */
  drained(now: number): void;
}

export interface SendQueueWatchOptions {
  /** Between readings, on a machine with few sockets; more sockets, longer (see #delayMs). */
  readonly everyMs?: number;
  /** A viewer whose kernel queue holds more than this (or two parts, if more) is held back. */
  readonly maxQueueBytes?: number;
  /** Replaceable for tests; undefined when the queues cannot be read at all, here. */
  readonly read?: (localPorts: ReadonlySet<number>, tables: ReadonlySet<ProcTable>) => Promise<SendQueueReading | undefined>;
}

interface Seen {
  queued: number;
  sent: number;
  at: number;
  /** Held back at least once: sends are budgeted to what it drains. */
  slow: boolean;
  heldBack: number;
  /** Readings in a row in which the budget held nothing back. */
  calm: number;
  /** Bytes it drained since drained() was last called. */
  drainedSince: number;
}

/** Readings without anything held back before a slow viewer is let go at full rate again (5 s). */
const CALM_READINGS = 10;
/** Rows of /proc/net/tcp (sockets of the whole machine) read per `everyMs`: beyond, readings space out. */
const ROWS_PER_READING = 10_000;

/**
 * Keeps each viewer's kernel send queue short, so a slow viewer sees the newest frame a moment
 * late rather than minutes of queued past (see send-queue.ts for why the kernel queue grows).
 *
 * Twice a second it reads every viewer's queue. One over the limit is held back until the queue
 * drains; from then on it may send, per reading, the room left under the limit and about what
 * it drains meanwhile, so its queue stays near the limit instead of refilling; a viewer whose
 * budget holds nothing back for a while sends freely again. A viewer that keeps up is never
 * limited, and its writes pay nothing. A new viewer starts free, so a slow one may queue up to
 * one reading's worth of stream before it is first held.
 *
 * The limit (256 KB, or two parts) is well above what a fast network keeps in flight, so only
 * viewers that cannot take the stream's rate are held. Where the queues cannot be read (no
 * /proc), or a reading fails, every limit is lifted: a viewer is never left held by a watch that
 * cannot see it drain.
 */
export class SendQueueWatch {
  readonly #viewers: () => Iterable<QueuedViewer>;
  readonly #everyMs: number;
  readonly #maxQueueBytes: number;
  readonly #read: (localPorts: ReadonlySet<number>, tables: ReadonlySet<ProcTable>) => Promise<SendQueueReading | undefined>;
  readonly #seen = new WeakMap<QueuedViewer, Seen>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #unavailable = false;
  /** The wait before the next reading: longer on a machine with many sockets, whose table costs more to read. */
  #delayMs: number;

  constructor(viewers: () => Iterable<QueuedViewer>, { everyMs = 500, maxQueueBytes = 256 * 1024, read = readSendQueues }: SendQueueWatchOptions = {}) {
    this.#viewers = viewers;
    this.#everyMs = everyMs;
    this.#delayMs = everyMs;
    this.#maxQueueBytes = maxQueueBytes;
    this.#read = read;
  }

  /** The wait before the next reading, in ms. */
  get delayMs(): number {
    return this.#delayMs;
  }

  start(): void {
    if (this.#running || this.#unavailable) return;
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One reading (the timer's); resolves once every viewer's limit is set. */
  async check(): Promise<void> {
    const viewers = [...this.#viewers()];
    const connections = viewers.flatMap((v) => v.connection() ?? []);
    if (connections.length === 0) return;
    let reading: SendQueueReading | undefined;
    try {
      reading = await this.#read(new Set(connections.map((c) => c.localPort)), new Set(connections.map((c) => procTable(c.remoteAddress))));
    } catch {
      // Out of file descriptors, say: this reading says nothing, the next may.
      this.#liftAll();
      return;
    }
    if (!reading) {
      this.#unavailable = true;
      this.stop();
      this.#liftAll();
      return;
    }
    this.#delayMs = this.#everyMs * Math.max(1, reading.rows / ROWS_PER_READING);
    const now = performance.now();
    for (const viewer of viewers) this.#update(viewer, reading.queues, now);
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.check().finally(() => {
        if (this.#running) this.#schedule();
      });
    }, this.#delayMs);
    // Ends with the last viewer; never the reason the process stays up.
    this.#timer.unref();
  }

  #liftAll(): void {
    for (const viewer of this.#viewers()) {
      const seen = this.#seen.get(viewer);
      if (!seen?.slow) continue;
      seen.slow = false;
      viewer.limitSending(undefined);
    }
  }

  #update(viewer: QueuedViewer, queues: SendQueues, now: number): void {
    const connection = viewer.connection();
    if (!connection) return;
    const queued = queues.get(connectionKey(connection.remoteAddress, connection.remotePort, connection.localPort));
    if (queued === undefined) return;
    const sent = viewer.bytesSent();
    const before = this.#seen.get(viewer);
    const seen: Seen = before ?? { queued, sent, at: now, slow: false, heldBack: viewer.heldBack, calm: 0, drainedSince: 0 };
    const seconds = (now - seen.at) / 1000;
    // What the viewer took since the last reading: what was queued then, plus what was written since, minus what still is.
    const drained = Math.max(0, seen.queued + (sent - seen.sent) - queued);
    const drainedPerSecond = seconds > 0 ? drained / seconds : 0;
    // Progress, for the send timeout, is a part's worth: a trickle that keeps a connection open is none.
    seen.drainedSince += drained;
    if (seen.drainedSince >= Math.max(1, viewer.partBytes)) {
      seen.drainedSince = 0;
      viewer.drained(now);
    }
    const limit = Math.max(this.#maxQueueBytes, 2 * viewer.partBytes);
    if (queued > limit) {
      seen.slow = true;
      seen.calm = 0;
      viewer.limitSending(0);
    } else if (seen.slow) {
      seen.calm = viewer.heldBack === seen.heldBack ? seen.calm + 1 : 0;
      if (seen.calm >= CALM_READINGS) {
        seen.slow = false;
        viewer.limitSending(undefined);
      } else {
        // The room left under the limit, plus what it drains until the next reading, and half as
        // much again: a viewer that took all it was given may be faster than it could show. At
        // least one byte: under the limit, the next part goes, however large.
        viewer.limitSending(Math.max(1, Math.floor(limit - queued + drainedPerSecond * (this.#delayMs / 1000) * 1.5)));
      }
    }
    Object.assign(seen, { queued, sent, at: now, heldBack: viewer.heldBack });
    if (!before) this.#seen.set(viewer, seen);
  }
}
