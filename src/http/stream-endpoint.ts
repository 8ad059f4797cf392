import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broadcaster } from '../broadcaster.js';
import { silentLogger, type Logger } from '../logger.js';
import { TypedEmitter } from '../typed-emitter.js';
import { MjpegViewer, type ViewerInfo } from './mjpeg-viewer.js';
import { AdvanceHeadersEncoder, wantsAdvanceHeaders } from './advance-headers-encoder.js';
import { MultipartEncoder } from './multipart-encoder.js';
import type { PartEncoder } from './part-encoder.js';
import { clientAddress, type TrustProxy } from './trust-proxy.js';
import { SendQueueWatch } from './send-queue-watch.js';
import { WriteScheduler } from './write-scheduler.js';
import { NO_CACHE_HEADERS, sendText } from './responses.js';

export interface StreamEndpointOptions {
  readonly broadcaster: Broadcaster;
  /** 0 = unlimited. */
  readonly maxViewers?: number;
  readonly boundary?: string;
  /** Cut a viewer whose part has waited this long for its socket; 0 = never (default 30 s). */
  readonly sendTimeoutMs?: number;
  /** The proxies whose X-Forwarded-For names a viewer's address; none by default (the socket's peer). */
  readonly trustProxy?: TrustProxy;
  /** Says when a viewer is cut. */
  readonly logger?: Logger;
}

/** What the streams of one endpoint have done since it was made, for /metrics. */
export interface StreamTotals {
  /** Streams opened. */
  readonly opened: number;
  /** Requests answered 503 because every viewer slot was taken. */
  readonly refused: number;
  /** Streams cut because their socket took nothing for sendTimeoutMs. */
  readonly timedOut: number;
  /** Frames, dropped frames and bytes of every stream, open or closed. */
  readonly framesSent: number;
  readonly framesDropped: number;
  readonly bytesSent: number;
}

export type StreamEndpointEvents = {
  'viewer-joined': [viewer: ViewerInfo];
  /** With the viewer's final counts (frames sent and dropped). */
  'viewer-left': [viewer: ViewerInfo];
};

/**
 * Serves MJPEG streams of one broadcaster and keeps the list of its viewers (for the status
 * and the viewer limit). Every viewer shares one encoder per layout (MultipartEncoder, or
 * AdvanceHeadersEncoder for a browser that shows the stream), so each part is built once per
 * frame.
 */
export class StreamEndpoint extends TypedEmitter<StreamEndpointEvents> {
  readonly #broadcaster: Broadcaster;
  readonly #maxViewers: number;
  readonly #encoder: MultipartEncoder;
  readonly #browserEncoder: AdvanceHeadersEncoder;
  /** Shared by every viewer: a frame's writes go out in slices, so accept() keeps up. */
  readonly #scheduler = new WriteScheduler();
  readonly #viewers = new Map<MjpegViewer, ServerResponse>();
  readonly #sendTimeoutMs: number;
  readonly #trustProxy: TrustProxy | undefined;
  readonly #logger: Logger;
  /** Runs while there are viewers: finds those whose socket has taken nothing for too long. */
  #sweeper: NodeJS.Timeout | undefined;
  /** Runs while there are viewers: keeps what the kernel queues for each one short. */
  readonly #queueWatch = new SendQueueWatch(() => this.#viewers.keys());
  #nextId = 1;
  #opened = 0;
  #refused = 0;
  #timedOut = 0;
  /** What closed streams did: counted when they leave, so a total never goes down. */
  #closed = { framesSent: 0, framesDropped: 0, bytesSent: 0 };

  constructor({ broadcaster, maxViewers = 0, boundary, sendTimeoutMs = 30_000, trustProxy, logger = silentLogger }: StreamEndpointOptions) {
    super();
    this.#broadcaster = broadcaster;
    this.#maxViewers = maxViewers;
    this.#encoder = new MultipartEncoder(boundary);
    this.#browserEncoder = new AdvanceHeadersEncoder(boundary);
    this.#sendTimeoutMs = sendTimeoutMs;
    this.#trustProxy = trustProxy;
    this.#logger = logger;
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  viewers(): ViewerInfo[] {
    return [...this.#viewers.keys()].map((v) => v.info());
  }

  /** Read on demand (a scrape), from counts the viewers keep anyway: nothing per write. */
  totals(): StreamTotals {
    const sum = { ...this.#closed };
    for (const viewer of this.#viewers.keys()) addCounts(sum, viewer.info());
    return { opened: this.#opened, refused: this.#refused, timedOut: this.#timedOut, ...sum };
  }

  serve(req: IncomingMessage, res: ServerResponse, client?: string): void {
    // A framework may call this after an async step (a session lookup) during which the client
    // left: its 'close' has been emitted already and would never reach the listener below,
    // leaving a viewer that is never removed and keeps the capture running.
    if (res.destroyed || res.writableEnded) return;
    if (this.#maxViewers > 0 && this.#viewers.size >= this.#maxViewers) {
      // A HEAD asks whether a stream would be served (the viewer page does, to say why its
      // stream failed): it is not a refused stream.
      if (req.method !== 'HEAD') this.#refused++;
      sendText(res, 503, `camcast: all ${this.#maxViewers} viewer slots are taken; try again shortly`, { 'Retry-After': '5' });
      return;
    }
    // Without chunked encoding the body is the raw multipart stream (ended by closing the
    // connection), as every MJPEG client expects and with less per-frame work for us.
    res.useChunkedEncodingByDefault = false;
    // Headers set earlier with setHeader (CORS, by the routes) are merged in by writeHead.
    const head = { 'Content-Type': this.#encoder.contentType, Connection: 'close', ...NO_CACHE_HEADERS };
    if (req.method === 'HEAD') {
      res.writeHead(200, head);
      res.end();
      return;
    }
    const encoder: PartEncoder = wantsAdvanceHeaders(req) ? this.#browserEncoder : this.#encoder;
    const remoteAddress = clientAddress(req, this.#trustProxy);
    // Subscribe before anything is written: if the stream is closed this throws, and the caller
    // can still answer 503 instead of leaving a half-open stream counted as a viewer.
    const viewer = new MjpegViewer(res, encoder, { id: this.#nextId++, client, remoteAddress, scheduler: this.#scheduler });
    const unsubscribe = this.#broadcaster.subscribe(viewer);
    this.#viewers.set(viewer, res);
    this.#opened++;
    res.once('close', () => {
      unsubscribe();
      viewer.close();
      this.#viewers.delete(viewer);
      if (this.#viewers.size === 0) {
        this.#stopSweeper();
        this.#queueWatch.stop();
      }
      const info = viewer.info();
      addCounts(this.#closed, info);
      this.emit('viewer-left', info);
    });
    this.#startSweeper();
    this.#queueWatch.start();
    res.writeHead(200, head);
    res.socket?.setNoDelay(true);
    res.write(encoder.preamble);
    this.emit('viewer-joined', viewer.info());
    // A newcomer sees the current picture at once instead of waiting for the next capture.
    const latest = this.#broadcaster.latest;
    if (latest) viewer.frame(latest);
  }

  /** Ends every open stream (on shutdown), letting clients see a clean end of the body. */
  endAll(): void {
    for (const viewer of this.#viewers.keys()) viewer.end();
  }

  /** Cuts every open stream at once. */
  destroyAll(): void {
    for (const res of this.#viewers.values()) res.destroy();
  }

  /**
   * A viewer that stopped reading holds one part and no more (see MjpegViewer), but it holds a
   * viewer slot and a socket for as long as its peer acknowledges the kernel's probes, which a
   * suspended phone or a hostile client does forever. One timer for all viewers, checking a
   * few times per timeout, so a cut comes between 1 and 1.5 timeouts after the last progress.
   */
  #startSweeper(): void {
    if (this.#sweeper || this.#sendTimeoutMs <= 0) return;
    const every = Math.max(50, Math.min(5000, this.#sendTimeoutMs / 4));
    this.#sweeper = setInterval(() => {
      const now = performance.now();
      for (const [viewer, res] of this.#viewers) {
        if (viewer.waitingMs(now) < this.#sendTimeoutMs) continue;
        this.#timedOut++;
        const { id, remoteAddress } = viewer.info();
        this.#logger.info(`viewer ${id}${remoteAddress ? ` (${remoteAddress})` : ''} cut: its connection took nothing for ${this.#sendTimeoutMs / 1000} s`);
        res.destroy();
      }
    }, every);
    // Ends with the last viewer; never the reason the process stays up.
    this.#sweeper.unref();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

function addCounts(sum: { framesSent: number; framesDropped: number; bytesSent: number }, viewer: ViewerInfo): void {
  sum.framesSent += viewer.framesSent;
  sum.framesDropped += viewer.framesDropped;
  sum.bytesSent += viewer.bytesSent;
}
