import { CamcastError, describeError } from './errors.js';
import type { FrameInput } from './frame.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { drawNoSignal } from './raster/no-signal.js';
import type { FrameSink, Source } from './sources/source.js';

export type SourceState = 'stopped' | 'starting' | 'live' | 'retrying' | 'ended';

export interface RunnerFrame extends FrameInput {
  /** True for the generated "no signal" picture shown while the source is down. */
  readonly noSignal?: boolean;
}

export interface SourceRunnerOptions {
  readonly source: Source;
  readonly onFrame: (frame: RunnerFrame) => void;
  readonly onStateChange?: (state: SourceState, error: Error | undefined) => void;
  readonly onEnded?: () => void;
  /** Delays between restarts; the last one repeats. */
  readonly restartDelaysMs?: readonly number[];
  /** A running source that delivers no frame for this long is restarted. 0 disables. */
  readonly stallTimeoutMs?: number;
  readonly noSignalIntervalMs?: number;
  readonly logger?: Logger;
}

/** How long a source must deliver frames before its restart delays start again from the first. */
const STABLE_AFTER_MS = 10_000;

export const DEFAULT_RESTART_DELAYS_MS: readonly number[] = [1000, 2000, 5000, 10000, 30000];

/**
 * Keeps one source running while it is wanted: starts it, restarts it with growing delays when
 * it fails to start, dies or stalls, and meanwhile produces a "no signal" picture once a second
 * so viewers keep their connection and see why. It knows nothing of viewers.
 */
export class SourceRunner {
  readonly #source: Source;
  readonly #onFrame: (frame: RunnerFrame) => void;
  readonly #onStateChange: (state: SourceState, error: Error | undefined) => void;
  readonly #onEnded: () => void;
  readonly #delays: readonly number[];
  readonly #stallTimeoutMs: number;
  readonly #noSignalIntervalMs: number;
  readonly #logger: Logger;

  #state: SourceState = 'stopped';
  #since = Date.now();
  #generation = 0;
  #attempt = 0;
  #restarts = 0;
  #lastError: Error | undefined;
  #errorSince = 0;
  #retryAt: number | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #noSignalTimer: NodeJS.Timeout | undefined;
  #size = { width: 640, height: 480 };
  #launching: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #liveSince = 0;

  constructor({
    source,
    onFrame,
    onStateChange = () => {},
    onEnded = () => {},
    restartDelaysMs = DEFAULT_RESTART_DELAYS_MS,
    // Pushed frames come when the user's code has them, so silence there is not a fault.
    stallTimeoutMs = source.kind === 'push' ? 0 : 5000,
    noSignalIntervalMs = 1000,
    logger = silentLogger,
  }: SourceRunnerOptions) {
    this.#source = source;
    this.#onFrame = onFrame;
    this.#onStateChange = onStateChange;
    this.#onEnded = onEnded;
    this.#delays = restartDelaysMs.length > 0 ? restartDelaysMs : DEFAULT_RESTART_DELAYS_MS;
    this.#stallTimeoutMs = stallTimeoutMs;
    this.#noSignalIntervalMs = noSignalIntervalMs;
    this.#logger = logger;
  }

  get state(): SourceState {
    return this.#state;
  }
  /** When the current state began (epoch ms). */
  get since(): number {
    return this.#since;
  }
  get restarts(): number {
    return this.#restarts;
  }
  get lastError(): Error | undefined {
    return this.#lastError;
  }
  /** While retrying: when the next attempt starts (epoch ms); undefined while that attempt runs. */
  get retryAt(): number | undefined {
    return this.#state === 'retrying' ? this.#retryAt : undefined;
  }

  /** Starts the source unless it already runs (or is retrying). */
  start(): void {
    if (this.#state !== 'stopped' && this.#state !== 'ended') return;
    // A new capture: the last one's failure (kept for the status while idle) is not this one's,
    // nor is the time it began.
    this.#lastError = undefined;
    this.#attempt = 0;
    this.#launching = this.#launch();
  }

  /** Stops the source and every timer; resolves once the source has released everything. */
  stop(): Promise<void> {
    this.#generation++;
    this.#clearTimers();
    if (this.#state !== 'stopped') this.#setState('stopped', undefined);
    // The first stop aborts a start under way; the second reaches whatever a start that raced
    // past it managed to open.
    const launching = this.#launching;
    const stopping = (async () => {
      await this.#stopSource();
      await launching?.catch(() => {});
      await this.#stopSource();
    })();
    this.#stopping = stopping;
    // Once done, the next start() calls the source's start() at once, in the same tick: a push
    // source then takes a frame pushed right after its first viewer came.
    const done = () => {
      if (this.#stopping === stopping) this.#stopping = undefined;
    };
    stopping.then(done, done);
    return stopping;
  }

  async #launch(): Promise<void> {
    const gen = ++this.#generation;
    // A retry stays 'retrying' until a frame comes: the source is still failing for everyone who
    // watches the state (health checks, alerts, the viewer page), and a camera that never answers
    // spends most of its failure inside attempts. Only the wait before the next attempt is over.
    if (this.#lastError) this.#retryAt = undefined;
    else this.#setState('starting', undefined);
    // A stop still under way (an ffmpeg taking its time to exit) must finish before the next
    // start, or a camera would be opened twice at once.
    if (this.#stopping) {
      await this.#stopping.catch(() => {});
      if (gen !== this.#generation) return;
    }
    // start() now runs inside whatever started the runner (a subscribe()), whose caller has not
    // yet set up what a frame or an end reaches; what a source tells its sink from inside
    // start() itself is therefore passed on a moment later.
    let inStart = true;
    const deliver = (tell: () => void) => (inStart ? queueMicrotask(tell) : tell());
    const sink: FrameSink = {
      frame: (frame) =>
        deliver(() => {
          if (gen === this.#generation) this.#liveFrame(frame);
        }),
      failed: (error) =>
        deliver(() => {
          if (gen === this.#generation) this.#fail(gen, error);
        }),
      ended: () =>
        deliver(() => {
          if (gen !== this.#generation) return;
          this.#clearTimers();
          this.#logger.info(`source ${this.#source.description} has ended; the next viewer starts it again`);
          this.#setState('ended', undefined);
          this.#onEnded();
        }),
    };
    try {
      const started = callSource(() => this.#source.start(sink));
      inStart = false;
      await started;
    } catch (error) {
      if (gen === this.#generation) this.#fail(gen, error);
      return;
    }
    // The source may have failed or ended before start() resolved (a failure plans the next
    // attempt, so #retryAt is set again); stop() handles a stale start.
    if (gen === this.#generation && this.#attemptRunning()) this.#armStallTimer(gen);
  }

  #liveFrame(frame: FrameInput): void {
    if (frame.width && frame.height) this.#size = { width: frame.width, height: frame.height };
    this.#stallTimer?.refresh();
    // The backoff restarts only after a stretch of live frames: a source that dies right after
    // its first frame must not be restarted every second forever.
    if (this.#attempt > 0 && this.#state === 'live' && performance.now() - this.#liveSince >= STABLE_AFTER_MS) this.#attempt = 0;
    if (this.#state !== 'live') {
      // Failures are logged as they come; so is their end, or the log stops at "retrying".
      if (this.#lastError) {
        const down = Math.round((Date.now() - this.#errorSince) / 1000);
        const restarts = `${this.#restarts} ${this.#restarts === 1 ? 'restart' : 'restarts'}`;
        this.#logger.info(`source ${this.#source.description} is live, after ${down} s of failures (${restarts} so far)`);
      }
      this.#liveSince = performance.now();
      this.#lastError = undefined;
      this.#stopNoSignal();
      this.#setState('live', undefined);
    }
    this.#onFrame(frame);
  }

  /** True while an attempt runs that has not failed: the first start, a retry, or a live source. */
  #attemptRunning(): boolean {
    return this.#state === 'starting' || this.#state === 'live' || (this.#state === 'retrying' && this.#retryAt === undefined);
  }

  #armStallTimer(gen: number): void {
    if (this.#stallTimeoutMs <= 0 || this.#stallTimer) return;
    // A source that means to send a frame only every so often (a snapshot polled every 10 s) is
    // not stalled between two of them. Read once it runs: a file knows then whether it is a picture.
    const stallMs = Math.max(this.#stallTimeoutMs, 2 * (this.#source.frameIntervalMs ?? 0));
    this.#stallTimer = setTimeout(() => {
      if (gen !== this.#generation) return;
      const seconds = stallMs / 1000;
      const error = new CamcastError('SOURCE_STALLED', `${this.#source.description} sent no frame for ${seconds} s`);
      if (this.#source.kind === 'push') this.#quiet(gen, error);
      else this.#fail(gen, error);
    }, stallMs);
  }

  /**
   * A push source that went quiet: there is nothing to restart (the frames come from the user's
   * code, which may push again any moment), so it keeps running and takes the next frame at once.
   * Meanwhile viewers see "no signal"; the next frame makes it live (#liveFrame), and rearms the
   * stall timer that fired here.
   */
  #quiet(gen: number, error: CamcastError): void {
    this.#errorSince = Date.now();
    this.#lastError = error;
    this.#retryAt = undefined;
    this.#logger.warn(`source ${this.#source.description}: ${error.message}; "no signal" until the next one`);
    this.#setState('retrying', error);
    this.#startNoSignal(gen);
  }

  #fail(gen: number, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const firstFailure = this.#state !== 'retrying' && this.#state !== 'starting';
    if (firstFailure || !this.#lastError) this.#errorSince = Date.now();
    this.#lastError = err;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    const delay = this.#delays[Math.min(this.#attempt, this.#delays.length - 1)]!;
    this.#attempt++;
    this.#retryAt = Date.now() + delay;
    this.#logger.warn(`source ${this.#source.description} failed: ${describeError(err)}; retrying in ${delay / 1000} s`);
    this.#setState('retrying', err);
    this.#startNoSignal(gen);
    // Stopping is idempotent; a stalled source still holds its process and must be stopped.
    // Not awaited here: #fail runs inside the source's own sink.failed(), which must not throw.
    void this.#stopSource().then(
      () => {
        if (gen !== this.#generation) return;
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          if (gen !== this.#generation) return;
          this.#restarts++;
          this.#launching = this.#launch();
        }, Math.max(0, this.#retryAt! - Date.now()));
      },
      (stopError: unknown) => this.#logger.error(`could not stop ${this.#source.description}: ${describeError(stopError)}`),
    );
  }

  #stopSource(): Promise<void> {
    return callSource(() => this.#source.stop());
  }

  #startNoSignal(gen: number): void {
    if (this.#noSignalTimer) return;
    const emit = () => {
      const reason = describeError(this.#lastError);
      drawNoSignal({ ...this.#size, reason, since: this.#errorSince, retryAt: this.#retryAt }).then(
        (jpeg) => {
          if (this.#noSignalTimer && this.#state !== 'live' && this.#generation >= gen) {
            this.#onFrame({ jpeg, ...this.#size, noSignal: true });
          }
        },
        (err: unknown) => this.#logger.error(`could not draw the no-signal picture: ${describeError(err)}`),
      );
    };
    this.#noSignalTimer = setInterval(emit, this.#noSignalIntervalMs);
    emit();
  }

  #stopNoSignal(): void {
    clearInterval(this.#noSignalTimer);
    this.#noSignalTimer = undefined;
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#stallTimer);
    this.#retryTimer = undefined;
    this.#stallTimer = undefined;
    this.#retryAt = undefined;
    this.#stopNoSignal();
  }

  #setState(state: SourceState, error: Error | undefined): void {
    if (state === this.#state && state !== 'retrying') return;
    this.#state = state;
    this.#since = Date.now();
    this.#onStateChange(state, error);
  }
}

/**
 * Calls start() or stop() of a source that may be plain JavaScript: `stop() { clearInterval(t) }`
 * returns undefined, and a method may throw instead of rejecting. Either way the result is a
 * promise, so the retry loop neither dies on `.then` of undefined nor throws into the caller.
 * The call itself stays synchronous, as a stop that aborts a start under way needs.
 */
function callSource(call: () => Promise<void> | void): Promise<void> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}
