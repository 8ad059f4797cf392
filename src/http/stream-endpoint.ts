import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broadcaster } from '../broadcaster.js';
import { TypedEmitter } from '../typed-emitter.js';
import { MjpegViewer, type ViewerInfo } from './mjpeg-viewer.js';
import { MultipartEncoder } from './multipart-encoder.js';
import { WriteScheduler } from './write-scheduler.js';
import { NO_CACHE_HEADERS, sendText } from './responses.js';

export interface StreamEndpointOptions {
  readonly broadcaster: Broadcaster;
  /** 0 = unlimited. */
  readonly maxViewers?: number;
  readonly boundary?: string;
}

export type StreamEndpointEvents = {
  'viewer-joined': [viewer: ViewerInfo];
  /** With the viewer's final counts (frames sent and dropped). */
  'viewer-left': [viewer: ViewerInfo];
};

/**
 * Serves MJPEG streams of one broadcaster and keeps the list of its viewers (for the status
 * and the viewer limit). Every viewer shares one encoder, so each part is built once per frame.
 */
export class StreamEndpoint extends TypedEmitter<StreamEndpointEvents> {
  readonly #broadcaster: Broadcaster;
  readonly #maxViewers: number;
  readonly #encoder: MultipartEncoder;
  /** Shared by every viewer: a frame's writes go out in slices, so accept() keeps up. */
  readonly #scheduler = new WriteScheduler();
  readonly #viewers = new Map<MjpegViewer, ServerResponse>();
  #nextId = 1;

  constructor({ broadcaster, maxViewers = 0, boundary }: StreamEndpointOptions) {
    super();
    this.#broadcaster = broadcaster;
    this.#maxViewers = maxViewers;
    this.#encoder = new MultipartEncoder(boundary);
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  viewers(): ViewerInfo[] {
    return [...this.#viewers.keys()].map((v) => v.info());
  }

  serve(req: IncomingMessage, res: ServerResponse, client?: string): void {
    if (this.#maxViewers > 0 && this.#viewers.size >= this.#maxViewers) {
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
    // Subscribe before anything is written: if the stream is closed this throws, and the caller
    // can still answer 503 instead of leaving a half-open stream counted as a viewer.
    const viewer = new MjpegViewer(res, this.#encoder, { id: this.#nextId++, client, scheduler: this.#scheduler });
    const unsubscribe = this.#broadcaster.subscribe(viewer);
    this.#viewers.set(viewer, res);
    res.once('close', () => {
      unsubscribe();
      viewer.close();
      this.#viewers.delete(viewer);
      this.emit('viewer-left', viewer.info());
    });
    res.writeHead(200, head);
    res.socket?.setNoDelay(true);
    res.write(this.#encoder.preamble);
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
}
