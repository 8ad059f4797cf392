import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Subscriber } from '../broadcaster.js';
import type { Frame } from '../frame.js';
import { RateMeter } from '../rate-meter.js';
import type { PartEncoder } from './part-encoder.js';
import type { ScheduledWriter, WriteScheduler } from './write-scheduler.js';

/**
 * The socket a stream's parts can go to directly, once one write through the response has put
 * its headers there; undefined to keep writing through the response. ServerResponse.write()
 * does bookkeeping on every call that a stream's body does not need (header and chunking
 * checks, a cork and a nextTick); profiled at 1792 viewers, skipping it cut the server's time
 * outside the kernel by half. The body is raw bytes on a connection that closes with it (no chunked
 * encoding, "Connection: close"), so the socket carries the same bytes in the same order.
 * Not when someone replaced the response's write() (a framework's middleware that counts or
 * transforms the body must still see every byte), nor for anything but Node's own response.
 * What this cannot see: a wrapper put on ServerResponse.prototype.write itself (the response's
 * write() is then the wrapper), or one put on the response after its first part.
 */
function rawBodySocket(res: ServerResponse): Socket | undefined {
  const socket = res.socket;
  if (!socket || res.write !== ServerResponse.prototype.write || res.chunkedEncoding || !res.headersSent) return undefined;
  return socket;
}

export interface ViewerInfo {
  readonly id: number;
  /** The `cid` query parameter the viewer page sends, so it can find itself in the status. */
  readonly client: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly connectedAt: number;
  readonly fps: number;
  readonly framesSent: number;
  readonly framesDropped: number;
  /** Bytes accepted by write() but not yet handed to the kernel: at most one part. */
  readonly pendingBytes: number;
  /** Bytes of this stream (its response headers included) handed to the connection so far. */
  readonly bytesSent: number;
  /** True while a newer frame waits for its turn or for the part in flight to reach the kernel. */
  readonly framePending: boolean;
}

/**
 * One MJPEG viewer. Built on Node's writable contract, made strict: a part is written only when
 * the previous one has been handed to the kernel (its write callback ran, which is also when
 * 'drain' would fire), and meanwhile only the newest frame is kept, replacing (and counting as
 * dropped) any older one. So a stalled viewer holds at most one part in user space plus one
 * frame reference (two for a moment, see below, until its turn in the scheduler has passed),
 * and never slows the broadcaster or the other viewers.
 *
 * With a scheduler the write itself waits for this viewer's turn (see WriteScheduler), so a
 * frame reaching thousands of viewers never blocks the event loop in one piece; without one it
 * is written at once.
 *
 * Near the machine's limit a fan-out sometimes runs past the next frame and the server catches
 * up a moment later. Replacing the frames of the viewers still in the queue would lose a frame
 * for each of them that the server had the time to send. So while the scheduler has been busy
 * for less than two frame intervals (one frame behind at most), a newer frame does not take the
 * place of the one waiting for its turn: it waits behind it (replacing any that waited there)
 * and queues once that one is written. A server busy for longer is past its limit, and holding
 * frames back would only add latency: then the newest frame takes the place as before. This
 * waits for the server, never for the viewer's own socket, so a viewer holds at most two frame
 * references and still one part.
 */
export class MjpegViewer implements Subscriber, ScheduledWriter {
  readonly id: number;
  readonly client: string | undefined;
  readonly connectedAt = Date.now();
  /**
   * Given once, by whoever serves the request (from the socket or, behind a trusted proxy,
   * X-Forwarded-For): socket.remoteAddress is a getpeername() system call each time, and the
   * status lists every viewer.
   */
  readonly #remoteAddress: string | undefined;
  readonly #res: ServerResponse;
  /**
   * Kept for its byte count: a response lets go of its socket once it ends. A response queued
   * behind another on the same connection (pipelining) gets it later.
   */
  #socket: Socket | null;
  /** The socket's count when this stream began: a kept-alive connection may have served a page before. */
  #bytesBefore: number;
  /** The most bytesSent ever reported: a destroyed socket forgets what it had buffered. */
  #bytesSeen = 0;
  readonly #encoder: PartEncoder;
  readonly #scheduler: WriteScheduler | undefined;
  readonly #meter = new RateMeter({ capacity: 64 });
  /** Set once parts may bypass the response (see rawBodySocket()). */
  #toSocket: Socket | undefined;
  #pending: Frame | undefined;
  /** A newer frame that came while #pending waited for its turn in the scheduler. */
  #behind: Frame | undefined;
  #inFlight = false;
  /** Bytes it may still hand its socket (see limitSending()); undefined: no limit. */
  #allowance: number | undefined;
  #heldBack = 0;
  /** When SendQueueWatch last saw its kernel queue go down (performance.now()). */
  #drainedAt = 0;
  #lastPartBytes = 0;
  /** What waitingMs() last saw in flight (#sent then) and since when: no clock read per write. */
  #waitSeen = { sent: -1, at: 0 };
  #queued = false;
  #lastSeq = 0;
  #sent = 0;
  #dropped = 0;
  #closed = false;

  constructor(
    res: ServerResponse,
    encoder: PartEncoder,
    { id, client, remoteAddress, scheduler }: { id: number; client?: string; remoteAddress?: string; scheduler?: WriteScheduler },
  ) {
    this.#res = res;
    this.#encoder = encoder;
    this.#scheduler = scheduler;
    this.#socket = res.socket;
    this.#bytesBefore = res.socket?.bytesWritten ?? 0;
    // Emitted before the response's own bytes are flushed to it.
    if (!res.socket) {
      res.once('socket', (socket: Socket) => {
        this.#socket = socket;
        this.#bytesBefore = socket.bytesWritten;
      });
    }
    this.#remoteAddress = remoteAddress;
    this.id = id;
    this.client = client;
  }

  frame(frame: Frame): void {
    const newest = this.#behind ?? this.#pending;
    if (this.#closed || frame.seq <= (newest?.seq ?? this.#lastSeq)) return;
    if (this.#queued && newest && this.#serverCatchesUp(frame.capturedAt - newest.capturedAt)) {
      // Waiting for the server, not for this viewer: the frame in line keeps its turn.
      if (this.#behind) this.#dropped++;
      this.#behind = frame;
      return;
    }
    if (this.#behind) {
      this.#dropped++;
      this.#behind = undefined;
    }
    this.#replacePending(frame);
    if (!this.#inFlight && !this.#queued) this.#enqueue();
  }

  /** Writes the waiting frame, if the part before it has reached the kernel. */
  flush(): void {
    this.#queued = false;
    const frame = this.#pending;
    const behind = this.#behind;
    this.#behind = undefined;
    if (!frame || this.#closed || this.#inFlight) {
      // The socket has not taken the last part: only the newest frame waits for it.
      if (behind) this.#replacePending(behind);
      return;
    }
    if (this.#allowance !== undefined && this.#allowance <= 0) {
      // Its kernel queue is long enough: the newest frame waits for limitSending() to allow it.
      this.#heldBack++;
      if (behind) this.#replacePending(behind);
      return;
    }
    this.#pending = behind;
    this.#write(frame);
    // Behind the viewers already queued for it, as if it had just come.
    if (this.#pending && !this.#closed) this.#enqueue();
  }

  /** Ends the stream with the close delimiter, after the part in flight if there is one. */
  end(): void {
    this.close();
    if (this.#res.destroyed || this.#res.writableEnded) return;
    this.#res.end(this.#encoder.ending);
  }

  /**
   * Lets the viewer hand its socket about `bytes` more (a part goes while any is left, so a
   * part larger than the allowance still goes, and the next waits; 0 holds it back), or lifts
   * the limit (undefined). For SendQueueWatch, which sees what the kernel holds for the viewer:
   * meanwhile the newest frame waits, replacing older ones, as for a socket that takes nothing.
   */
  limitSending(bytes: number | undefined): void {
    this.#allowance = bytes;
    if (this.#pending && !this.#inFlight && !this.#queued && !this.#closed && (bytes === undefined || bytes > 0)) this.#enqueue();
  }

  /** Frames limitSending() has held back so far. */
  get heldBack(): number {
    return this.#heldBack;
  }

  /** The size of the last part written, 0 before the first. */
  get partBytes(): number {
    return this.#lastPartBytes;
  }

  /** Where its connection goes, for SendQueueWatch; undefined until it has one, or once it is gone. */
  connection(): { readonly remoteAddress: string; readonly remotePort: number; readonly localPort: number } | undefined {
    const socket = this.#socket;
    if (!socket || socket.destroyed || !socket.remoteAddress || !socket.remotePort || !socket.localPort) return undefined;
    return { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, localPort: socket.localPort };
  }

  /** Forgets any pending frame; the response itself is owned by the HTTP layer. */
  close(): void {
    this.#closed = true;
    this.#pending = undefined;
    this.#behind = undefined;
  }

  /**
   * How long its socket has been seen taking nothing, by the calls of this method (a sweep's):
   * a part in flight that the kernel has not taken, or a viewer held back by limitSending()
   * whose kernel queue has not drained a part's worth since (see drained()); 0 otherwise. It
   * errs short by at most one sweep.
   */
  waitingMs(now: number): number {
    const held = this.#allowance !== undefined && this.#allowance <= 0 && this.#pending !== undefined;
    if (!this.#inFlight && !held) {
      this.#waitSeen = { sent: -1, at: 0 };
      return 0;
    }
    if (this.#waitSeen.sent !== this.#sent) this.#waitSeen = { sent: this.#sent, at: now };
    return now - Math.max(this.#waitSeen.at, this.#drainedAt);
  }

  /** Its kernel send queue went down by a part's worth (SendQueueWatch saw it): a viewer held back is still reading. */
  drained(now = performance.now()): void {
    this.#drainedAt = now;
  }

  info(): ViewerInfo {
    return {
      id: this.id,
      client: this.client,
      remoteAddress: this.#remoteAddress,
      connectedAt: this.connectedAt,
      fps: Math.round(this.#meter.rate() * 10) / 10,
      framesSent: this.#sent,
      framesDropped: this.#dropped,
      pendingBytes: this.#res.writableLength,
      bytesSent: this.bytesSent(),
      framePending: this.#pending !== undefined,
    };
  }

  /** Read on demand (a status, a scrape, a send-queue check), never per write; it never goes down, as a counter must not. */
  bytesSent(): number {
    const now = (this.#socket?.bytesWritten ?? this.#bytesBefore) - this.#bytesBefore;
    this.#bytesSeen = Math.max(this.#bytesSeen, now);
    return this.#bytesSeen;
  }

  /** Whether the scheduler is at most one frame behind, for frames `interval` ms apart: busy for under two intervals. */
  #serverCatchesUp(interval: number): boolean {
    return this.#scheduler !== undefined && this.#scheduler.busyMs() < 2 * interval;
  }

  #replacePending(frame: Frame): void {
    if (this.#pending) this.#dropped++;
    this.#pending = frame;
  }

  #enqueue(): void {
    if (!this.#scheduler) {
      this.flush();
      return;
    }
    this.#queued = true;
    this.#scheduler.schedule(this);
  }

  #write(frame: Frame): void {
    this.#lastSeq = frame.seq;
    const part = this.#encoder.part(frame);
    if (!part) {
      // Its bytes hold the delimiter (see PartEncoder.part): the viewer keeps the picture it has.
      this.#dropped++;
      return;
    }
    const socket = this.#toSocket;
    if (socket && !socket.writable) {
      // The client shut its side, so Node ended ours (it keeps no half-open HTTP connection):
      // the stream is over and its 'close' is coming. res.write() would have held the part;
      // a socket written after its end reports an error to the app's 'clientError' listeners.
      this.close();
      return;
    }
    this.#sent++;
    this.#meter.record();
    this.#inFlight = true;
    this.#lastPartBytes = part.length;
    if (this.#allowance !== undefined) this.#allowance -= part.length;
    // One write per part: the part is a single buffer shared with every other viewer.
    if (socket) {
      socket.write(part, this.#flushed);
      return;
    }
    this.#res.write(part, this.#flushed);
    // res.write() corks the socket until the next tick to merge small writes. A part is one
    // write already; sending it now keeps it inside the scheduler's time slice.
    this.#res.socket?.uncork();
    this.#toSocket = rawBodySocket(this.#res);
  }

  /**
   * The previous part reached the kernel: the frame that waited, if any, goes at once. These
   * callbacks come one socket at a time as the kernel takes bytes, so they make no burst to
   * spread, and writing now keeps a slow viewer's socket fed without waiting for a slice.
   */
  readonly #flushed = (error?: Error | null): void => {
    this.#inFlight = false;
    // Destroying a socket calls back the write it cut short with no error.
    if (error || this.#closed || this.#res.destroyed) {
      // Its 'close' may come later: no frame meanwhile is written or counted as sent.
      this.close();
      return;
    }
    if (this.#pending && !this.#queued) this.flush();
  };
}
