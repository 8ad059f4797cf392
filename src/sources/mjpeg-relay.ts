import type { ClientRequest, IncomingMessage } from 'node:http';
import { CamcastError, type ErrorCode } from '../errors.js';
import { preciseNow } from '../frame.js';
import { readJpegSize } from './jpeg-info.js';
import { JpegSplitter } from './jpeg-splitter.js';
import { MultipartReader } from './multipart-reader.js';
import { describeNetworkError } from './network-hint.js';
import type { FrameSink } from './source.js';

export interface MjpegRelayOptions {
  /** An answered GET whose body is multipart/x-mixed-replace; the relay owns it from now on. */
  readonly request: ClientRequest;
  readonly response: IncomingMessage;
  readonly boundary: string;
  readonly sink: FrameSink;
  /** Names the upstream in messages (password redacted). */
  readonly label: string;
  readonly startTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly maxFrameBytes: number;
  /** Called once the request and its socket are gone, before the sink hears why. */
  readonly onGone: () => void;
}

type State = 'starting' | 'running' | 'stopping' | 'done';

/**
 * Relays an HTTP multipart MJPEG body as frames, without decoding them. Each part passes through
 * a JpegSplitter, reset at every part, so a frame is exactly SOI..EOI even when a camera pads its
 * parts or cuts one short. Like FfmpegProcess: `started` rejects if no frame comes; an end or an
 * error afterwards is sink.failed(); stop() resolves when the socket is closed.
 */
export class MjpegRelay {
  readonly started: Promise<void>;
  readonly #options: MjpegRelayOptions;
  readonly #reader: MultipartReader;
  readonly #splitter: JpegSplitter;
  readonly #closed: Promise<void>;
  #state: State = 'starting';
  #reason: CamcastError | undefined;
  #settle!: { resolve: () => void; reject: (err: Error) => void };
  #startTimer: NodeJS.Timeout;
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(options: MjpegRelayOptions) {
    this.#options = options;
    const { request, response, boundary, maxFrameBytes, startTimeoutMs } = options;
    this.#reader = new MultipartReader({ boundary, maxPartBytes: maxFrameBytes });
    this.#splitter = new JpegSplitter({ maxFrameBytes });
    this.started = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#closed = new Promise((resolve) =>
      request.once('close', () => {
        this.#onClose();
        resolve();
      }),
    );
    this.#startTimer = setTimeout(() => this.#end('SOURCE_START_FAILED', `no frame within ${startTimeoutMs / 1000} s`), startTimeoutMs);
    response.on('data', (chunk: Buffer) => this.#onData(chunk));
    response.on('end', () => this.#end('SOURCE_FAILED', 'the upstream ended the stream'));
    response.on('error', (err) => this.#end('SOURCE_FAILED', `the upstream connection failed: ${describeNetworkError(err)}`));
    request.on('error', (err) => this.#end('SOURCE_FAILED', `the upstream connection failed: ${describeNetworkError(err)}`));
  }

  /** Idempotent; resolves when the request and its socket are closed. */
  stop(): Promise<void> {
    if (this.#state === 'starting' || this.#state === 'running') {
      this.#state = 'stopping';
      this.#options.request.destroy();
    }
    return this.#closed;
  }

  #onData(chunk: Buffer): void {
    if (this.#reason || (this.#state !== 'starting' && this.#state !== 'running')) return;
    for (const part of this.#reader.push(chunk)) {
      const frames = this.#splitter.push(part.body);
      this.#splitter.reset(); // a part cut short must not swallow the start of the next one
      for (const jpeg of frames) {
        this.#deliver(jpeg);
        if (this.#state !== 'running') return; // the sink stopped us
      }
    }
  }

  #deliver(jpeg: Buffer): void {
    if (this.#state === 'starting') {
      this.#state = 'running';
      clearTimeout(this.#startTimer);
      const { stallTimeoutMs } = this.#options;
      if (stallTimeoutMs > 0) {
        this.#stallTimer = setTimeout(() => this.#end('SOURCE_STALLED', `no frame for ${stallTimeoutMs / 1000} s`), stallTimeoutMs);
      }
      this.#settle.resolve();
    } else {
      this.#stallTimer?.refresh();
    }
    this.#options.sink.frame({ jpeg, capturedAt: preciseNow(), ...readJpegSize(jpeg) });
  }

  /** Records why it ends (the first reason wins) and closes the request; #onClose reports. */
  #end(code: ErrorCode, what: string): void {
    if (this.#reason || (this.#state !== 'starting' && this.#state !== 'running')) return;
    this.#reason = new CamcastError(code, `${this.#options.label}: ${what}`);
    this.#options.request.destroy();
  }

  #onClose(): void {
    clearTimeout(this.#startTimer);
    clearTimeout(this.#stallTimer);
    const previous = this.#state;
    this.#state = 'done';
    this.#options.onGone();
    const { label } = this.#options;
    if (previous === 'starting') {
      const reason = this.#reason ?? new CamcastError('SOURCE_START_FAILED', `${label}: the upstream closed before the first frame`);
      this.#settle.reject(reason.code === 'SOURCE_START_FAILED' ? reason : new CamcastError('SOURCE_START_FAILED', reason.message));
    } else if (previous === 'stopping') {
      this.#settle.reject(new CamcastError('CLOSED', `${label}: stopped before the first frame`)); // no-op if started
    } else if (previous === 'running') {
      this.#options.sink.failed(this.#reason ?? new CamcastError('SOURCE_FAILED', `${label}: the upstream closed the connection`));
    }
  }
}
