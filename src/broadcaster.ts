import { CamcastError, describeError } from './errors.js';
import { preciseNow, type Frame } from './frame.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { checkBroadcasterArguments, type BroadcasterOptions } from './broadcaster-options.js';
import { checkDelay } from './option-checks.js';
import { RateMeter } from './rate-meter.js';
import { SourceRunner, type RunnerFrame, type SourceState } from './source-runner.js';
import type { Source } from './sources/source.js';
import { TypedEmitter } from './typed-emitter.js';

/** A consumer of frames. Called synchronously for every frame; must never block or throw. */
export interface Subscriber {
  frame(frame: Frame): void;
  /** The source has no more frames (a file played once). */
  end?(): void;
}

export type { BroadcasterOptions } from './broadcaster-options.js';

export type BroadcasterEvents = {
  frame: [frame: Frame];
  state: [state: SourceState, error: Error | undefined];
  subscribers: [count: number];
};

export interface BroadcasterStatus {
  readonly kind: string;
  readonly description: string;
  readonly state: SourceState;
  readonly since: number;
  readonly lastError: string | undefined;
  readonly restarts: number;
  /** The size of the newest real frame, kept after the capture stops (not a "no signal" picture's). */
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fps: number;
  readonly frames: number;
  /** When the newest real frame was captured (ms since the epoch); "no signal" pictures do not count. */
  readonly lastFrameAt: number | undefined;
  readonly subscribers: number;
}

/** The fractional part of the golden ratio: successive multiples fill [0, 1) evenly. */
const GOLDEN_RATIO_STEP = 0.6180339887498949;

/**
 * The open Broadcaster each Source feeds. A source has one sink, so a second capture on it
 * cannot work: push() would feed only the newest, the test pattern would ignore the second
 * start, and closing either would stop the source under the other. The only state kept across
 * instances, and keyed weakly by the source itself: it keeps nothing alive, and servers with
 * sources of their own never meet in it.
 */
const owners = new WeakMap<Source, Broadcaster>();

/**
 * Holds the newest frame and the subscribers of one source, and nothing else: no sockets, no
 * source details. The source runs only while someone watches (plus a linger), and every frame
 * goes to every subscriber at once, so the newest frame always wins.
 */
export class Broadcaster extends TypedEmitter<BroadcasterEvents> {
  readonly source: Source;
  readonly #runner: SourceRunner;
  readonly #subscribers = new Set<Subscriber>();
  /**
   * The subscribers as an array for the fan-out, rebuilt at the first frame after a subscribe or
   * unsubscribe (so a burst of thousands of them costs one copy) and never changed in place, so
   * a frame goes out over the array it started with.
   */
  #order: readonly Subscriber[] | undefined;
  readonly #idleTimeoutMs: number;
  readonly #logger: Logger;
  readonly #meter = new RateMeter();
  #latest: Frame | undefined;
  /**
   * The newest real frame (never a "no signal" picture), kept after the capture stops or ends:
   * the status reports when the source last delivered and at what size, which is what a
   * dashboard watching for a dead camera needs, even while "no signal" pictures go out.
   */
  #lastLive: Pick<Frame, 'capturedAt' | 'width' | 'height'> | undefined;
  #seq = 0;
  #frames = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(source: Source, options: BroadcasterOptions = {}) {
    checkBroadcasterArguments(source, options);
    const { idleTimeoutMs = 10_000, stallTimeoutMs, restartDelaysMs, logger = silentLogger } = options;
    if (owners.has(source)) {
      throw new CamcastError(
        'BAD_OPTION',
        `this source (${source.description}) already feeds another stream: mount that stream's handlers in both places, create a second source, or close the other stream first`,
      );
    }
    super((error, event) => logger.error(`a '${String(event)}' listener threw: ${describeError(error)}`));
    owners.set(source, this);
    this.source = source;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#logger = logger;
    this.#runner = new SourceRunner({
      source,
      stallTimeoutMs,
      restartDelaysMs,
      logger,
      onFrame: (frame) => this.#publish(frame),
      onStateChange: (state, error) => {
        // A stopped or failing capture must not serve its last live frame as if it were current.
        if (state === 'stopped' || state === 'ended') this.#latest = undefined;
        this.emit('state', state, error);
      },
      onEnded: () => this.#endAll(),
    });
  }

  /** The newest frame while the capture runs (live or "no signal"); undefined when idle. */
  get latest(): Frame | undefined {
    return this.#latest;
  }
  get state(): SourceState {
    return this.#runner.state;
  }
  get lastError(): Error | undefined {
    return this.#runner.lastError;
  }
  /** While the source is retrying after a failure: when its next attempt starts (epoch ms). */
  get retryAt(): number | undefined {
    return this.#runner.retryAt;
  }
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Adds a subscriber, starting the capture if needed. Returns the matching unsubscribe. */
  subscribe(subscriber: Subscriber): () => void {
    if (this.#closed) throw new CamcastError('CLOSED', 'the stream is closed');
    this.#subscribers.add(subscriber);
    this.#order = undefined;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#runner.start();
    this.emit('subscribers', this.#subscribers.size);
    return () => this.#unsubscribe(subscriber);
  }

  /**
   * Someone just looked at the newest frame without subscribing (a snapshot): as for a viewer
   * who has just left, the linger starts again, so a client that only polls snapshots keeps a
   * running capture warm instead of having it stopped and restarted every idle timeout. Starts
   * nothing; cheaper than subscribe() and unsubscribe(), which make the next frame copy the
   * list of viewers.
   */
  keepWarm(): void {
    if (this.#runner.state !== 'stopped') this.#lingerAfterLastViewer();
  }

  /** Starts capturing now, without waiting for a viewer (used with idleTimeoutMs 0). */
  startCapture(): void {
    if (!this.#closed) this.#runner.start();
  }

  /**
   * The next live frame, counting as a brief viewer (so it starts an idle capture and lets the
   * linger keep it warm). Rejects with NO_FRAME after `timeoutMs`, saying why when it knows, or
   * as soon as the source fails with its next attempt beyond that.
   */
  nextFrame({ timeoutMs = 5000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Frame> {
    return new Promise((resolve, reject) => {
      // 0 or less would fail every call at once, saying "within -0.001 s".
      checkDelay('timeoutMs', timeoutMs, 1);
      // An 'abort' event never comes for a signal aborted already.
      if (signal?.aborted) {
        reject(new CamcastError('NO_FRAME', 'the request was aborted'));
        return;
      }
      let settled = false;
      const deadline = Date.now() + timeoutMs;
      // Set before subscribing: a subscriber may be called back before subscribe() returns.
      let unsubscribe: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.off('state', onState);
        unsubscribe?.();
      };
      // A source that fails and will not try again before the deadline sends nothing in time:
      // say so now rather than at the deadline.
      const onState = (state: SourceState) => {
        const retryAt = this.#runner.retryAt;
        if (settled || state !== 'retrying' || retryAt === undefined || retryAt < deadline) return;
        finish();
        const why = this.#runner.lastError ? describeError(this.#runner.lastError) : 'it failed';
        reject(new CamcastError('NO_FRAME', `no picture: ${why}; the next attempt is in ${Math.ceil((retryAt - Date.now()) / 1000)} s`));
      };
      this.on('state', onState);
      const onAbort = () => {
        if (settled) return;
        finish();
        reject(new CamcastError('NO_FRAME', 'the request was aborted'));
      };
      try {
        unsubscribe = this.subscribe({
          frame: (frame) => {
            if (settled || frame.noSignal) return;
            finish();
            resolve(frame);
          },
          end: () => {
            if (settled) return;
            finish();
            reject(this.#closed ? new CamcastError('CLOSED', 'the stream was closed') : new CamcastError('SOURCE_ENDED', `${this.source.description} has ended`));
          },
        });
      } catch (error) {
        // Closed: nothing was set up but the state listener.
        this.off('state', onState);
        reject(error);
        return;
      }
      if (settled) {
        unsubscribe();
        return;
      }
      timer = setTimeout(() => {
        if (settled) return;
        finish();
        const why = this.#runner.lastError ? `: ${describeError(this.#runner.lastError)}` : '';
        reject(new CamcastError('NO_FRAME', `no frame from ${this.source.description} within ${timeoutMs / 1000} s${why}`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  status(): BroadcasterStatus {
    const live = this.#lastLive;
    return {
      kind: this.source.kind,
      description: this.source.description,
      state: this.#runner.state,
      since: this.#runner.since,
      lastError: this.#runner.lastError ? describeError(this.#runner.lastError) : undefined,
      restarts: this.#runner.restarts,
      width: live?.width,
      height: live?.height,
      // The meter decays over its window; once capture has stopped the rate is simply 0.
      fps: this.#runner.state === 'live' ? Math.round(this.#meter.rate() * 10) / 10 : 0,
      frames: this.#frames,
      lastFrameAt: live?.capturedAt,
      subscribers: this.#subscribers.size,
    };
  }

  /**
   * Ends every subscriber and stops the capture; then the source is free for another
   * Broadcaster. Idempotent: every call returns the same promise (a later call must not stop the
   * source again under its next owner).
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#endAll();
    try {
      await this.#runner.stop();
    } finally {
      // Only once stopped: the runner's last stop() would otherwise reach the next owner's capture.
      if (owners.get(this.source) === this) owners.delete(this.source);
    }
  }

  #unsubscribe(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) return;
    this.#order = undefined;
    this.emit('subscribers', this.#subscribers.size);
    this.#lingerAfterLastViewer();
  }

  /** (Re)starts the linger once nobody watches: the capture stops when it runs out. */
  #lingerAfterLastViewer(): void {
    if (this.#subscribers.size > 0 || this.#idleTimeoutMs <= 0 || this.#closed) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#subscribers.size > 0) return;
      this.#logger.info(`no viewers for ${this.#idleTimeoutMs / 1000} s: stopping ${this.source.description}`);
      this.#runner.stop().catch((err: unknown) => this.#logger.error(`stopping the source failed: ${describeError(err)}`));
    }, this.#idleTimeoutMs);
  }

  #publish(input: RunnerFrame): void {
    const frame: Frame = {
      jpeg: input.jpeg,
      seq: ++this.#seq,
      capturedAt: input.capturedAt ?? preciseNow(),
      width: input.width,
      height: input.height,
      noSignal: input.noSignal,
    };
    this.#latest = frame;
    if (!frame.noSignal) {
      this.#lastLive = { capturedAt: frame.capturedAt, width: frame.width, height: frame.height };
      this.#frames++;
      this.#meter.record();
    }
    // Each frame starts the fan-out at a different subscriber. Viewers are written in the order
    // they are told, so when the machine cannot write a frame to everyone before the next one
    // comes, the ones told last get it late or, past the machine's limit, skip it; a fixed order
    // would make the same viewers wait or skip every time. Golden-ratio steps spread the starting
    // point evenly over any number of subscribers.
    // (A subscriber added during a fan-out gets the next frame; viewers are handed `latest` when
    // they join.)
    const order = (this.#order ??= [...this.#subscribers]);
    const count = order.length;
    const first = Math.floor(((frame.seq * GOLDEN_RATIO_STEP) % 1) * count);
    for (let i = 0; i < count; i++) {
      const subscriber = order[(first + i) % count]!;
      // A subscriber that left during this fan-out (another one's frame() ended it) is skipped.
      if (!this.#subscribers.has(subscriber)) continue;
      try {
        subscriber.frame(frame);
      } catch (error) {
        this.#logger.error(`a subscriber threw: ${describeError(error)}`);
      }
    }
    this.emit('frame', frame);
  }

  #endAll(): void {
    for (const subscriber of [...this.#subscribers]) {
      try {
        subscriber.end?.();
      } catch (error) {
        this.#logger.error(`a subscriber threw on end: ${describeError(error)}`);
      }
    }
  }
}
