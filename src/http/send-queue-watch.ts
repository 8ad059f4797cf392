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

/**
 * What the watch keeps of a viewer it holds back (or budgets to what it drains) from its queue
 * going past the limit until it keeps up again; a viewer that keeps up has none.
 */
interface Seen {
  queued: number;
  sent: number;
  at: number;
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
  /** Each viewer's connection as /proc spells it, worked out once: readings go through thousands. */
  readonly #connections = new WeakMap<QueuedViewer, { readonly key: string; readonly localPort: number; readonly table: ProcTable }>();
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
    const ports = new Set<number>();
    const tables = new Set<ProcTable>();
    for (const viewer of viewers) {
      const connection = this.#connectionOf(viewer);
      if (!connection) continue;
      ports.add(connection.localPort);
      tables.add(connection.table);
    }
    if (ports.size === 0) return;
    let reading: SendQueueReading | undefined;
    try {
      reading = await this.#read(ports, tables);
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
      if (!this.#seen.delete(viewer)) continue;
      viewer.limitSending(undefined);
    }
  }

  #connectionOf(viewer: QueuedViewer): { readonly key: string; readonly localPort: number; readonly table: ProcTable } | undefined {
    let known = this.#connections.get(viewer);
    if (known === undefined) {
      const connection = viewer.connection();
      if (!connection) return undefined;
      const { remoteAddress, remotePort, localPort } = connection;
      known = { key: connectionKey(remoteAddress, remotePort, localPort), localPort, table: procTable(remoteAddress) };
      this.#connections.set(viewer, known);
    }
    return known;
  }

  #update(viewer: QueuedViewer, queues: SendQueues, now: number): void {
    const key = this.#connections.get(viewer)?.key;
    const queued = key === undefined ? undefined : queues.get(key);
    if (queued === undefined) return;
    const limit = Math.max(this.#maxQueueBytes, 2 * viewer.partBytes);
    const before = this.#seen.get(viewer);
    // The common case, and the cheap one: a viewer that keeps up, and is not held.
    if (!before && queued <= limit) return;
    const sent = viewer.bytesSent();
    const seen: Seen = before ?? { queued, sent, at: now, heldBack: viewer.heldBack, calm: 0, drainedSince: 0 };
    if (!before) this.#seen.set(viewer, seen);
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
    if (queued > limit) {
      seen.calm = 0;
      viewer.limitSending(0);
    } else {
      seen.calm = viewer.heldBack === seen.heldBack ? seen.calm + 1 : 0;
      if (seen.calm >= CALM_READINGS) {
        // Forgotten: held again some day, it starts counting afresh.
        this.#seen.delete(viewer);
        viewer.limitSending(undefined);
        return;
      }
      // The room left under the limit, plus what it drains until the next reading, and half as
      // much again: a viewer that took all it was given may be faster than it could show. At
      // least one byte: under the limit, the next part goes, however large.
      viewer.limitSending(Math.max(1, Math.floor(limit - queued + drainedPerSecond * (this.#delayMs / 1000) * 1.5)));
    }
    Object.assign(seen, { queued, sent, at: now, heldBack: viewer.heldBack });
  }
}
