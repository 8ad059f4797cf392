import { connectionKey, procTable, readSendQueues, type ProcTable, type SendQueues } from './send-queue.js';

/** What SendQueueWatch needs of a viewer (an MjpegViewer). */
export interface QueuedViewer {
  connection(): { readonly remoteAddress: string; readonly remotePort: number; readonly localPort: number } | undefined;
  /** Bytes handed to its socket so far. */
  bytesSent(): number;
  readonly partBytes: number;
  readonly heldBack: number;
  limitSending(bytes: number | undefined): void;
  /** Its queue went down since the last reading: it is reading, however slowly. */
  drained(now: number): void;
}

export interface SendQueueWatchOptions {
  readonly everyMs?: number;
  /** A viewer whose kernel queue holds more than this (or two parts, if more) is held back. */
  readonly maxQueueBytes?: number;
  /** Replaceable for tests; undefined when the queues cannot be read at all. */
  readonly read?: (localPorts: ReadonlySet<number>, tables: ReadonlySet<ProcTable>) => Promise<SendQueues | undefined>;
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
}

/** Readings without anything held back before a slow viewer is let go at full rate again (5 s). */
const CALM_READINGS = 10;

/**
 * Keeps each viewer's kernel send queue short, so a slow viewer sees the newest frame a moment
 * late rather than minutes of queued past (see send-queue.ts for why the kernel queue grows).
 * Twice a second it reads every viewer's queue. One over the limit is held back until the queue
 * drains; from then on it may send, per reading, the room left under the limit and about what
 * it drains meanwhile, so its queue stays near the limit instead of refilling; a viewer whose
 * budget holds nothing back for a while sends freely again. A viewer that keeps up is never
 * limited, and its writes pay nothing. A new viewer starts free, so a slow one may queue up to
 * one reading's worth of stream before it is first held.
 *
 * The limit (256 KB, or two parts) is well above what a fast network keeps in flight, so only
 * viewers that cannot take the stream's rate are held. On a machine without /proc/net/tcp it
 * stops after the first reading.
 */
export class SendQueueWatch {
  readonly #viewers: () => Iterable<QueuedViewer>;
  readonly #everyMs: number;
  readonly #maxQueueBytes: number;
  readonly #read: (localPorts: ReadonlySet<number>, tables: ReadonlySet<ProcTable>) => Promise<SendQueues | undefined>;
  readonly #seen = new WeakMap<QueuedViewer, Seen>();
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #unavailable = false;

  constructor(viewers: () => Iterable<QueuedViewer>, { everyMs = 500, maxQueueBytes = 256 * 1024, read = readSendQueues }: SendQueueWatchOptions = {}) {
    this.#viewers = viewers;
    this.#everyMs = everyMs;
    this.#maxQueueBytes = maxQueueBytes;
    this.#read = read;
  }

  start(): void {
    if (this.#timer || this.#unavailable) return;
    this.#timer = setInterval(() => void this.check(), this.#everyMs);
    // Ends with the last viewer; never the reason the process stays up.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One reading (the timer's); resolves once every viewer's limit is set. */
  async check(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const viewers = [...this.#viewers()];
      const connections = viewers.flatMap((v) => v.connection() ?? []);
      if (connections.length === 0) return;
      const ports = new Set(connections.map((c) => c.localPort));
      const queues = await this.#read(ports, new Set(connections.map((c) => procTable(c.remoteAddress))));
      if (!queues) {
        this.#unavailable = true;
        this.stop();
        return;
      }
      const now = performance.now();
      for (const viewer of viewers) this.#update(viewer, queues, now);
    } catch {
      // A reading that failed once (a /proc hiccup) changes nothing; the next one may work.
    } finally {
      this.#reading = false;
    }
  }

  #update(viewer: QueuedViewer, queues: SendQueues, now: number): void {
    const connection = viewer.connection();
    if (!connection) return;
    const queued = queues.get(connectionKey(connection.remoteAddress, connection.remotePort, connection.localPort));
    if (queued === undefined) return;
    const sent = viewer.bytesSent();
    const before = this.#seen.get(viewer);
    const seen: Seen = before ?? { queued, sent, at: now, slow: false, heldBack: viewer.heldBack, calm: 0 };
    const seconds = (now - seen.at) / 1000;
    // What the viewer took since the last reading: what was queued then, plus what was written since, minus what still is.
    const drainedPerSecond = seconds > 0 ? Math.max(0, seen.queued + (sent - seen.sent) - queued) / seconds : 0;
    if (before && queued < seen.queued) viewer.drained(now);
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
        // much again: a viewer that took all it was given may be faster than it could show.
        viewer.limitSending(Math.floor(limit - queued + drainedPerSecond * (this.#everyMs / 1000) * 1.5));
      }
    }
    Object.assign(seen, { queued, sent, at: now, heldBack: viewer.heldBack });
    if (!before) this.#seen.set(viewer, seen);
  }
}
