import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { Broadcaster } from './broadcaster.js';
import { CamcastError, describeError } from './errors.js';
import type { Frame } from './frame.js';
import type { ViewerInfo } from './http/mjpeg-viewer.js';
import { processMetrics, serveMetrics, StreamMetrics } from './http/metrics.js';
import { answerFailure, refusedMethod, sendError, sendJson } from './http/responses.js';
import { serveSnapshot } from './http/snapshot.js';
import { buildStatus } from './http/status.js';
import { StreamEndpoint } from './http/stream-endpoint.js';
import { compileTrustProxy } from './http/trust-proxy.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { SourceState } from './source-runner.js';
import { openSource, type OpenSourceOptions } from './sources/index.js';
import type { Source } from './sources/source.js';
import { checkOptionsObject } from './option-checks.js';
import { checkLiveStreamOptions, checkSourceOption } from './stream-options.js';
import { TypedEmitter } from './typed-emitter.js';
import { packageVersion } from './version.js';

/**
 * A request handler in node:http's shape. Express calls it as (req, res, next) and it never
 * needs `next`; Fastify takes it through forFastify().
 */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** How long close() lets viewers take what was already sent before it cuts them. */
const CLOSE_GRACE_MS = 1000;

export interface LiveStreamOptions extends OpenSourceOptions {
  /** Stop capturing this long after the last viewer leaves; 0 = capture from now until close(). */
  readonly idleTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  readonly restartDelaysMs?: readonly number[];
  /** 0 = unlimited; further viewers get 503 with Retry-After. */
  readonly maxViewers?: number;
  /**
   * Cut a stream whose socket has taken nothing of a part for this long (a viewer that stopped
   * reading, which would hold its slot for ever); 0 = never. Default 30 s.
   */
  readonly sendTimeoutMs?: number;
  /** How long a snapshot of an idle source waits for its first frame. */
  readonly snapshotTimeoutMs?: number;
  /**
   * Also serve the process's CPU, memory and start time (`process_*`) at `metrics`, as
   * createServer() does; `metricsRegistry` never holds them. Default false.
   */
  readonly processMetrics?: boolean;
  /**
   * Constant labels on every camcast_* series (and the process_* ones of `metrics`), e.g.
   * `{ camera: 'front' }`, to tell streams apart on one page (mergedMetrics()). Default none.
   */
  readonly metricsLabels?: Readonly<Record<string, string>>;
  /**
   * The reverse proxies whose X-Forwarded-For to believe for a viewer's address (ViewerInfo,
   * status): addresses, CIDR subnets or 'loopback', 'linklocal', 'uniquelocal', as a list or
   * comma-separated. Default: nobody, so the address is the socket's peer and cannot be spoofed.
   */
  readonly trustProxy?: string | readonly string[];
  readonly logger?: Logger;
}

/**
 * StreamServer's own flag, not an option: with idleTimeoutMs 0 the server starts the capture in
 * listen(), so one that never listens captures nothing. A symbol, kept out of index.ts, so it is
 * in no public type and no options object carries it by accident.
 */
export const captureFromListen = Symbol('captureFromListen');

/** The options StreamServer passes, with its own flag. */
export type ServerLiveStreamOptions = LiveStreamOptions & { readonly [captureFromListen]?: boolean };

/**
 * What mergedMetrics() reads of a stream besides its registry, under a symbol kept out of
 * index.ts (as captureFromListen) so that it is no public member.
 */
export const mergeView = Symbol('mergeView');

export interface MergeView {
  readonly closed: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

export type LiveStreamEvents = {
  frame: [frame: Frame];
  state: [state: SourceState, error: Error | undefined];
  /** The number of open MJPEG streams, after each join and leave. */
  viewers: [count: number];
  'viewer-joined': [viewer: ViewerInfo];
  'viewer-left': [viewer: ViewerInfo];
  /** A source failure, or a subscribe() callback that threw or rejected. */
  error: [error: Error];
};

/**
 * One capture and the request handlers that serve it: mount `mjpeg`, `snapshot`, `status` and
 * `metrics` on any node:http, Express or Fastify app (or several) and every viewer shares the
 * capture.
 * The handlers are bound, so `app.get('/cam', cam.mjpeg)` works as is.
 */
export class LiveStream extends TypedEmitter<LiveStreamEvents> {
  readonly source: Source;
  readonly broadcaster: Broadcaster;
  readonly #endpoint: StreamEndpoint;
  readonly #metrics: StreamMetrics;
  /** What `metrics` serves: this capture's registry, plus the process's with processMetrics. */
  readonly #metricsPage: Registry;
  readonly #snapshotTimeoutMs: number;
  readonly #logger: Logger;
  readonly #metricsLabels: Readonly<Record<string, string>>;
  readonly #startedAt = Date.now();
  readonly #version = packageVersion();
  #snapshots = 0;
  #closing: Promise<void> | undefined;

  constructor(source: Source | string, options: LiveStreamOptions = {}) {
    checkSourceOption(source);
    checkOptionsObject('stream', options, "'test', { idleTimeoutMs: 0 }");
    checkLiveStreamOptions(options);
    const { idleTimeoutMs = 10_000, maxViewers = 0, snapshotTimeoutMs = 5000, logger = silentLogger } = options;
    super((error, event) => logger.error(`a '${String(event)}' listener threw: ${describeError(error)}`));
    this.source = typeof source === 'string' ? openSource(source, options).source : source;
    this.#snapshotTimeoutMs = snapshotTimeoutMs;
    this.#logger = logger;
    // A copy: the caller's object may change later, the labels of a series must not.
    this.#metricsLabels = Object.freeze({ ...options.metricsLabels });
    this.broadcaster = new Broadcaster(this.source, { idleTimeoutMs, stallTimeoutMs: options.stallTimeoutMs, restartDelaysMs: options.restartDelaysMs, logger });
    this.broadcaster.on('frame', (frame) => this.emit('frame', frame));
    this.broadcaster.on('state', (state, error) => {
      this.emit('state', state, error);
      // Once per failure: the move to 'retrying' carries the error.
      if (error && state === 'retrying') this.emit('error', error);
    });
    this.#endpoint = new StreamEndpoint({
      broadcaster: this.broadcaster,
      maxViewers,
      sendTimeoutMs: options.sendTimeoutMs,
      trustProxy: compileTrustProxy(options.trustProxy),
      logger,
    });
    this.#endpoint.on('viewer-joined', (viewer) => {
      this.emit('viewer-joined', viewer);
      this.emit('viewers', this.#endpoint.viewerCount);
    });
    this.#endpoint.on('viewer-left', (viewer) => {
      this.emit('viewer-left', viewer);
      this.emit('viewers', this.#endpoint.viewerCount);
    });
    this.#metrics = new StreamMetrics({
      broadcaster: this.broadcaster,
      viewerCount: () => this.#endpoint.viewerCount,
      totals: () => this.#endpoint.totals(),
      snapshots: () => this.#snapshots,
      version: this.#version,
      labels: this.#metricsLabels,
    });
    this.#metricsPage = options.processMetrics ? Registry.merge([this.#metrics.registry, processMetrics()]) : this.#metrics.registry;
    // A merged registry has no default labels of its own; here the process_* series get them too.
    this.#metricsPage.setDefaultLabels({ ...this.#metricsLabels });
    if (idleTimeoutMs <= 0 && !(options as ServerLiveStreamOptions)[captureFromListen]) this.broadcaster.startCapture();
  }

  /** Open MJPEG streams. */
  get viewerCount(): number {
    return this.#endpoint.viewerCount;
  }

  /** Each open MJPEG stream with what it was sent and dropped, as in the status. */
  viewers(): ViewerInfo[] {
    return this.#endpoint.viewers();
  }

  /** GET: the live multipart/x-mixed-replace stream, as at /stream.mjpg. */
  readonly mjpeg: NodeHandler = (req, res) => this.#handle(req, res, () => this.#endpoint.serve(req, res, clientId(req.url)));

  /** GET: one JPEG of the newest frame; on an idle source it starts the capture and waits. */
  readonly snapshot: NodeHandler = (req, res) =>
    this.#handle(req, res, () => {
      this.#snapshots++;
      void serveSnapshot(req, res, this.broadcaster, this.#snapshotTimeoutMs);
    });

  /** GET: the JSON of /api/status for this capture and its viewers. */
  readonly status: NodeHandler = (req, res) =>
    this.#handle(req, res, () =>
      sendJson(res, buildStatus({ broadcaster: this.broadcaster, viewers: this.#endpoint.viewers(), startedAt: this.#startedAt, version: this.#version })),
    );

  /** GET: this capture and its viewers in Prometheus' text format, as at /metrics. */
  readonly metrics: NodeHandler = (req, res) =>
    this.#handle(req, res, () => {
      serveMetrics(req, res, this.#metricsPage).catch((error: unknown) => answerFailure(this.#logger, req, res, error));
    });

  /** This capture's metrics (camcast_* only), to merge into an app's own (`Registry.merge`). */
  get metricsRegistry(): Registry {
    return this.#metrics.registry;
  }

  [mergeView](): MergeView {
    return { closed: this.#closing !== undefined, labels: this.#metricsLabels, logger: this.#logger };
  }

  /**
   * Calls `onFrame` with every frame (live, or the "no signal" picture with `frame.noSignal`)
   * and counts as a viewer, so the capture runs until the returned function is called. A
   * callback that throws or rejects is reported as an 'error' event and never stops the stream.
   */
  subscribe(onFrame: (frame: Frame) => void | Promise<void>): () => void {
    const report = (error: unknown) => this.emit('error', error instanceof Error ? error : new Error(String(error)));
    return this.broadcaster.subscribe({
      frame: (frame) => {
        try {
          const result: unknown = onFrame(frame);
          if (result instanceof Promise) result.catch(report);
        } catch (error) {
          report(error);
        }
      },
    });
  }

  /**
   * Ends every stream, answers waiting snapshots, stops the source. Idempotent; resolves once
   * the source has released everything and every stream response is closed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#endpoint.endAll();
    // A viewer still taking its last part gets a moment to reach the closing delimiter, while
    // the source stops.
    await Promise.all([this.broadcaster.close(), this.#viewersGone(CLOSE_GRACE_MS)]);
    // Whatever did not end by itself (a stalled viewer) is cut now; each cut emits viewer-left.
    this.#endpoint.destroyAll();
    await this.#viewersGone();
    this.#logger.debug('live stream closed');
  }

  /** Resolves once no stream is open, or after `timeoutMs`. */
  #viewersGone(timeoutMs = Infinity): Promise<void> {
    if (this.#endpoint.viewerCount === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        this.#endpoint.off('viewer-left', check);
        resolve();
      };
      const check = () => {
        if (this.#endpoint.viewerCount === 0) done();
      };
      this.#endpoint.on('viewer-left', check);
      if (timeoutMs !== Infinity) timer = setTimeout(done, timeoutMs);
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse, serve: () => void): void {
    try {
      if (refusedMethod(req, res)) return;
      if (this.#closing) sendError(res, new CamcastError('CLOSED', 'this stream was closed'));
      else serve();
    } catch (error) {
      answerFailure(this.#logger, req, res, error);
    }
  }
}

/**
 * One capture of `source` (a Source, or a --source spec such as 'auto', 'test', '/dev/video0',
 * a file or a URL) with handlers to mount on your own app. Close it with `close()`.
 */
export function stream(source: Source | string, options: LiveStreamOptions = {}): LiveStream {
  return new LiveStream(source, options);
}

/** `app.get('/cam', mjpeg(cam))`: the same as `cam.mjpeg`. */
export function mjpeg(live: LiveStream): NodeHandler {
  return liveStream(live, 'mjpeg').mjpeg;
}

/** `app.get('/cam.jpg', snapshot(cam))`: the same as `cam.snapshot`. */
export function snapshot(live: LiveStream): NodeHandler {
  return liveStream(live, 'snapshot').snapshot;
}

/** `app.get('/cam/status', status(cam))`: the same as `cam.status`. */
export function status(live: LiveStream): NodeHandler {
  return liveStream(live, 'status').status;
}

/** `app.get('/metrics', metrics(cam))`: the same as `cam.metrics`. */
export function metrics(live: LiveStream): NodeHandler {
  return liveStream(live, 'metrics').metrics;
}

/** The viewer page tags its stream with `cid` so it can find its own delivery rate in the status. */
function clientId(url: string | undefined): string | undefined {
  const match = /[?&]cid=([\w-]{1,64})(?:&|$)/.exec(url ?? '');
  return match?.[1];
}

/** The capture belongs to a LiveStream, never to a handler, so a bare Source is refused. */
function liveStream(live: LiveStream, name: string): LiveStream {
  if (live instanceof LiveStream) return live;
  throw new CamcastError(
    'BAD_OPTION',
    `${name}() takes the object stream(source) returns, so that every handler shares one capture: const cam = stream(source); app.get('/cam', ${name}(cam))`,
  );
}
