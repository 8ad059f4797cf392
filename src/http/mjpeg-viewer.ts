import type { ServerResponse } from 'node:http';
import type { Subscriber } from '../broadcaster.js';
import type { Frame } from '../frame.js';
import { RateMeter } from '../rate-meter.js';
import type { MultipartEncoder } from './multipart-encoder.js';

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
  /** True while a newer frame waits for the part in flight to reach the kernel. */
  readonly framePending: boolean;
}

/**
 * One MJPEG viewer. Built on Node's writable contract, made strict: a part is written only when
 * the previous one has been handed to the kernel (its write callback ran, which is also when
 * 'drain' would fire), and meanwhile only the newest frame is kept, replacing (and counting as
 * dropped) any older one. So a stalled viewer holds at most one part in user space plus one
 * frame reference, and never slows the broadcaster or the other viewers.
 */
export class MjpegViewer implements Subscriber {
  readonly id: number;
  readonly client: string | undefined;
  readonly connectedAt = Date.now();
  readonly #res: ServerResponse;
  readonly #encoder: MultipartEncoder;
  readonly #meter = new RateMeter({ capacity: 64 });
  #pending: Frame | undefined;
  #inFlight = false;
  #lastSeq = 0;
  #sent = 0;
  #dropped = 0;
  #closed = false;

  constructor(res: ServerResponse, encoder: MultipartEncoder, { id, client }: { id: number; client?: string }) {
    this.#res = res;
    this.#encoder = encoder;
    this.id = id;
    this.client = client;
  }

  frame(frame: Frame): void {
    if (this.#closed || frame.seq <= this.#lastSeq) return;
    if (this.#inFlight) {
      if (this.#pending) this.#dropped++;
      this.#pending = frame;
      return;
    }
    this.#write(frame);
  }

  end(): void {
    this.close();
    this.#res.end();
  }

  /** Forgets any pending frame; the response itself is owned by the HTTP layer. */
  close(): void {
    this.#closed = true;
    this.#pending = undefined;
  }

  info(): ViewerInfo {
    return {
      id: this.id,
      client: this.client,
      remoteAddress: this.#res.socket?.remoteAddress,
      connectedAt: this.connectedAt,
      fps: Math.round(this.#meter.rate() * 10) / 10,
      framesSent: this.#sent,
      framesDropped: this.#dropped,
      pendingBytes: this.#res.writableLength,
      framePending: this.#pending !== undefined,
    };
  }

  #write(frame: Frame): void {
    this.#lastSeq = frame.seq;
    this.#sent++;
    this.#meter.record();
    this.#inFlight = true;
    // One write per part: the part is a single buffer shared with every other viewer.
    this.#res.write(this.#encoder.part(frame), this.#flushed);
  }

  /** The previous part reached the kernel: send the frame that waited, if any. */
  readonly #flushed = (error?: Error | null): void => {
    this.#inFlight = false;
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending && !error && !this.#closed) this.#write(pending);
  };
}
