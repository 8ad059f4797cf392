import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { CamcastError, isCamcastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkText, describeValue } from '../option-checks.js';
import { frameIntervalOf, type EncodeOptions } from './encode-options.js';
import { urlArgs, validateEncodeOptions } from './ffmpeg-args.js';
import { resolveFfmpeg } from './ffmpeg-path.js';
import { FfmpegFeed } from './ffmpeg-process.js';
import { openHttp, type Opened } from './http-get.js';
import { notVideo } from './media-type.js';
import { MjpegRelay } from './mjpeg-relay.js';
import { parseBoundary } from './multipart-reader.js';
import { describeNetworkError, NoAnswerError } from './network-hint.js';
import { redactError, redactSecrets, urlSecrets } from './redact.js';
import { SnapshotPoller } from './snapshot-poller.js';
import type { FrameSink, Source } from './source.js';
import { checkOptionsObject } from '../option-checks.js';
import { checkSharedOptions } from './source-options.js';
import { portOf, unsupportedScheme, URL_SCHEMES } from './url-scheme.js';

export interface UrlOptions extends EncodeOptions {
  /** rtsp://, rtsps://, http:// or https://; credentials may sit in the URL. */
  readonly url: string;
  /** Else resolved with resolveFfmpeg() when ffmpeg is needed (RTSP, or HTTP that is not MJPEG). */
  readonly ffmpegPath?: string;
  readonly logger?: Logger;
  /** Connecting, the response headers and the first frame must each come within this. */
  readonly startTimeoutMs?: number;
  /** No frame for this long after the first: the source failed with SOURCE_STALLED. */
  readonly stallTimeoutMs?: number;
  /** check()'s GET (for RTSP, its TCP connect) must be answered within this; default 5000. */
  readonly checkTimeoutMs?: number;
  /**
   * The largest JPEG taken from an MJPEG upstream or a still-image URL; default 16 MiB. A
   * larger MJPEG part is skipped and a larger still image fails the source, so a broken
   * upstream cannot make camcast buffer without bound.
   */
  readonly maxFrameBytes?: number;
  /**
   * https: accept a certificate Node does not trust (an IP camera's self-signed one). ffmpeg,
   * which decodes what is not MJPEG or JPEG, does not verify certificates either way.
   */
  readonly insecure?: boolean;
}

/**
 * A network camera or stream. An HTTP upstream that already serves multipart MJPEG (camcast,
 * mjpg-streamer, most IP cameras) is relayed in Node, JPEGs untouched and no ffmpeg at all;
 * anything else (RTSP, a single JPEG, a video over HTTP) is decoded and encoded by ffmpeg.
 */
export function url(options: UrlOptions): Source {
  checkOptionsObject('url', options, "{ url: 'rtsp://user:password@192.168.1.20/stream1' }");
  checkText('url', options.url, "'rtsp://user:password@192.168.1.20/stream1'");
  checkSharedOptions(options);
  if (options.insecure !== undefined && typeof options.insecure !== 'boolean') {
    throw new CamcastError('BAD_OPTION', `insecure must be true or false (got ${describeValue(options.insecure)})`);
  }
  validateEncodeOptions(options);
  return new UrlSource(options);
}

/** The URL, or BAD_OPTION (naming it with its password masked) if camcast cannot read it. */
function parseUrl(url: string): URL {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new CamcastError('BAD_OPTION', `not a valid URL: ${redactSecrets(url)}`);
  }
  if (!URL_SCHEMES.has(target.protocol)) throw unsupportedScheme(url);
  return target;
}

class UrlSource implements Source {
  readonly kind = 'url' as const;
  readonly description: string;
  readonly frameIntervalMs: number | undefined;
  readonly #options: UrlOptions;
  readonly #target: URL;
  /** The URL's password as typed and decoded, masked wherever it shows up in what we say. */
  readonly #secrets: readonly string[];
  readonly #logger: Logger;
  readonly #feed: FfmpegFeed;
  #ffmpegPath: string | undefined;
  #relay: MjpegRelay | undefined;
  #toldUntouched = false;
  #connecting: AbortController | undefined;
  #poller: SnapshotPoller | undefined;
  /** Bumped by every start() and stop(), so a start() that a stop() overtook gives up. */
  #generation = 0;

  constructor(options: UrlOptions) {
    this.#options = options;
    this.#target = parseUrl(options.url);
    this.#secrets = urlSecrets(options.url);
    this.#logger = options.logger ?? silentLogger;
    this.description = redactSecrets(options.url);
    this.frameIntervalMs = frameIntervalOf(options.fps);
    const { startTimeoutMs, stallTimeoutMs } = options;
    this.#feed = new FfmpegFeed({ label: this.description, startTimeoutMs, stallTimeoutMs });
  }

  /** Reachable: something listens (RTSP), or an HTTP GET is answered with a usable status. */
  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.#check(signal);
    } catch (error) {
      // The caller's own reason goes back as it is: it asked for the abort and knows what it means.
      if (signal?.aborted && error === signal.reason) throw error;
      throw this.#redact(error);
    }
  }

  async start(sink: FrameSink): Promise<void> {
    const redacting: FrameSink = {
      frame: (frame) => sink.frame(frame),
      failed: (error) => sink.failed(this.#redact(error) as Error),
      ended: () => sink.ended(),
    };
    try {
      await this.#start(redacting);
    } catch (error) {
      throw this.#redact(error);
    }
  }

  async stop(): Promise<void> {
    this.#generation++;
    this.#connecting?.abort();
    const poller = this.#poller;
    this.#poller = undefined;
    await Promise.all([this.#relay?.stop(), this.#feed.stop(), poller?.stop()]);
  }

  /**
   * Every error this source reports passes through here: ffmpeg's stderr and some Node errors
   * repeat the URL with its password, and what a source reports reaches every viewer's "no
   * signal" picture, /api/status, snapshot error bodies and the logs.
   */
  #redact(error: unknown): unknown {
    return redactError(error, this.#secrets);
  }

  async #check(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    const target = this.#target;
    if (target.protocol === 'rtsp:' || target.protocol === 'rtsps:') {
      await this.#resolveFfmpeg();
      await this.#checkTcp(target, signal);
      return;
    }
    let opened: Opened;
    try {
      opened = await this.#get(this.#options.checkTimeoutMs ?? 5000, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason; // not the AbortError node:http made of it
      throw new CamcastError('SOURCE_NOT_FOUND', this.#cannotReach(err), { cause: err });
    }
    opened.request.destroy(); // reachable is all check() wants to know
    const problem = this.#answerProblem(opened.response, target);
    if (problem) throw new CamcastError(problem.code, problem.message);
  }

  async #start(sink: FrameSink): Promise<void> {
    const generation = ++this.#generation;
    const current = () => {
      if (generation !== this.#generation) throw new CamcastError('CLOSED', `${this.description}: stopped while starting`);
    };
    const target = this.#target;
    if (target.protocol === 'http:' || target.protocol === 'https:') {
      const relayed = await this.#startHttp(target, sink, generation, current);
      if (relayed) return;
    }
    const ffmpegPath = await this.#resolveFfmpeg();
    current();
    const { url, width, height, fps, quality } = this.#options;
    const args = urlArgs({ url, width, height, fps, quality });
    this.#logger.debug(`${this.description}: decoding with ffmpeg`);
    await this.#feed.start(sink, ffmpegPath, args);
  }

  /** GETs the URL; relays it if it is multipart MJPEG (returns true), else lets ffmpeg have it. */
  async #startHttp(target: URL, sink: FrameSink, generation: number, current: () => void): Promise<boolean> {
    // Stall detection is the SourceRunner's (it has the user's --stall-timeout); 0 here.
    const { startTimeoutMs = 10_000, stallTimeoutMs = 0, maxFrameBytes = 16 * 1024 * 1024 } = this.#options;
    const connecting = new AbortController();
    this.#connecting = connecting;
    let opened: Opened;
    try {
      opened = await this.#get(startTimeoutMs, connecting.signal);
    } catch (err) {
      current();
      throw new CamcastError('SOURCE_START_FAILED', this.#cannotReach(err), { cause: err });
    } finally {
      if (this.#connecting === connecting) this.#connecting = undefined;
    }
    const { request, response } = opened;
    const problem = this.#answerProblem(response, target);
    const contentType = response.headers['content-type'] ?? '';
    const boundary = parseBoundary(contentType);
    const ok = response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;
    if (!problem && ok && /^image\/jpeg\b/i.test(contentType) && generation === this.#generation) {
      return this.#startPolling(target, response, sink, startTimeoutMs, maxFrameBytes);
    }
    if (problem || !ok || boundary === undefined || generation !== this.#generation) {
      request.destroy();
      current();
      if (problem) throw new CamcastError('SOURCE_START_FAILED', problem.message);
      this.#logger.debug(`${this.description}: "${contentType}" is not multipart MJPEG: ffmpeg decodes it`);
      return false;
    }
    this.#logger.debug(`${this.description}: relaying its MJPEG without re-encoding`);
    this.#tellUntouched('serves MJPEG, which is relayed untouched', false);
    const relay: MjpegRelay = new MjpegRelay({
      request,
      response,
      boundary,
      sink,
      label: this.description,
      startTimeoutMs,
      stallTimeoutMs,
      maxFrameBytes,
      onGone: () => {
        if (this.#relay === relay) this.#relay = undefined;
      },
    });
    this.#relay = relay;
    await relay.started;
    return true;
  }

  /**
   * Relayed and polled pictures are the upstream's own bytes: say once which of the asked
   * settings that leaves out, rather than ignore them. A poller sets its own rate; a relay cannot.
   */
  #tellUntouched(how: string, rateApplies: boolean): void {
    const { width, height, quality, fps } = this.#options;
    const unapplied = [
      ...(width !== undefined || height !== undefined ? ['size'] : []),
      ...(quality !== undefined ? ['quality'] : []),
      ...(fps !== undefined && !rateApplies ? ['frame rate'] : []),
    ];
    if (this.#toldUntouched || unapplied.length === 0) return;
    this.#toldUntouched = true;
    const list = unapplied.length === 1 ? `${unapplied[0]} is` : `${unapplied.slice(0, -1).join(', ')} and ${unapplied.at(-1)} are`;
    this.#logger.warn(`${this.description} ${how}: the asked ${list} not applied (the upstream's own settings decide)`);
  }

  /** A still-image URL: poll it at the asked rate (default 2 per second). */
  async #startPolling(target: URL, first: IncomingMessage, sink: FrameSink, timeoutMs: number, maxFrameBytes: number): Promise<boolean> {
    this.#logger.debug(`${this.description}: a still image; polling it`);
    this.#tellUntouched('is a still image, polled and passed on untouched', true);
    const poller = new SnapshotPoller({
      get: async (signal) => {
        try {
          return (await this.#get(timeoutMs, signal)).response;
        } catch (err) {
          if (signal.aborted) throw err; // the poller tells its own deadline and stop() apart
          throw new Error(describeNetworkError(err, target), { cause: err });
        }
      },
      sink,
      label: this.description,
      fps: this.#options.fps ?? 2,
      maxFrameBytes,
      timeoutMs,
    });
    this.#poller = poller;
    try {
      await poller.deliver(first);
    } catch (err) {
      await poller.stop();
      if (isCamcastError(err, 'CLOSED')) throw err;
      throw new CamcastError('SOURCE_START_FAILED', `${this.description}: ${describeNetworkError(err, target)}`, { cause: err });
    }
    poller.start();
    return true;
  }

  /** One GET of the URL, trusting its certificate if the user said so. */
  #get(timeoutMs: number, signal: AbortSignal | undefined): Promise<Opened> {
    return openHttp(this.#target, { timeoutMs, signal, insecure: this.#options.insecure });
  }

  /** "cannot reach URL: Node's reason: what to do", in one line. */
  #cannotReach(error: unknown): string {
    return `cannot reach ${this.description}: ${describeNetworkError(error, this.#target)}`;
  }

  /** Why this answer cannot be streamed, or undefined if it can (by the relay or by ffmpeg). */
  #answerProblem(response: IncomingMessage, target: URL): { code: 'SOURCE_NOT_FOUND' | 'SOURCE_START_FAILED'; message: string } | undefined {
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      const notMedia = notVideo(response.headers['content-type'], target.pathname);
      if (notMedia === undefined) return undefined;
      const message = `${this.description} answered ${notMedia.type}, ${notMedia.what}, not video: give the camera's MJPEG stream or snapshot URL (its manual or web page lists it)`;
      return { code: 'SOURCE_START_FAILED', message };
    }
    // Many IP cameras want Digest authentication, which Node's client does not do but ffmpeg does:
    // with credentials in the URL, let ffmpeg have it (re-encoding beats not streaming).
    if (status === 401 && target.username !== '' && /digest/i.test(String(response.headers['www-authenticate']))) {
      return undefined;
    }
    const said = `${this.description} answered HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd();
    if (status >= 300 && status < 400) {
      const location = response.headers.location;
      return { code: 'SOURCE_START_FAILED', message: `${said}; redirects are not followed: use the final URL${location ? ` ${redactSecrets(location)}` : ''}` };
    }
    // The hint names no URL: written out, "scheme://user:password@" would be masked like a real one.
    if (status === 401 && target.username !== '') {
      return { code: 'SOURCE_START_FAILED', message: `${said}: it refused the user name and password in the URL; check them` };
    }
    if (status === 401) {
      return { code: 'SOURCE_START_FAILED', message: `${said}: it wants a user name and password; put them in the URL, as user:password@ before the host` };
    }
    if (status === 403) {
      return { code: 'SOURCE_START_FAILED', message: `${said}: it refuses this ${target.username === '' ? 'client' : 'user'} access to that path; check the path and the account's rights in the camera's settings` };
    }
    if (status === 404 || status === 410) {
      return { code: 'SOURCE_NOT_FOUND', message: `${said}: check the path (the camera's manual or web page gives its MJPEG stream or snapshot URL)` };
    }
    return { code: 'SOURCE_START_FAILED', message: said };
  }

  /** RTSP is ffmpeg's to speak; check() only makes sure something listens at host:port. */
  async #checkTcp(target: URL, signal: AbortSignal | undefined): Promise<void> {
    const port = portOf(target)!; // rtsp: or rtsps:, both with a default
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    const timeoutMs = this.#options.checkTimeoutMs ?? 5000;
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port });
      const done = (error?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (error === undefined) resolve();
        else if (signal?.aborted && error === signal.reason) reject(error);
        else reject(new CamcastError('SOURCE_NOT_FOUND', this.#cannotReach(error), { cause: error }));
      };
      const onAbort = () => done(signal!.reason);
      const timer = setTimeout(() => done(new NoAnswerError(timeoutMs)), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done());
      socket.once('error', (error) => done(error));
    });
  }

  async #resolveFfmpeg(): Promise<string> {
    // The environment is the one the ffmpeg child inherits anyway.
    this.#ffmpegPath ??= this.#options.ffmpegPath ?? (await resolveFfmpeg({ env: process.env })).path;
    return this.#ffmpegPath;
  }
}
