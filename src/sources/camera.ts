import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CamcastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkText } from '../option-checks.js';
import { frameIntervalOf, type EncodeOptions } from './encode-options.js';
import { cameraArgs, listFormatsArgs, parseV4l2Formats, validateEncodeOptions } from './ffmpeg-args.js';
import { resolveFfmpeg } from './ffmpeg-path.js';
import { FfmpegFeed } from './ffmpeg-process.js';
import { piCameraNode } from './pi-camera.js';
import { shortRun } from './short-run.js';
import type { FrameSink, Source } from './source.js';
import { checkOptionsObject } from '../option-checks.js';
import { checkSharedOptions } from './source-options.js';

export interface CameraOptions extends EncodeOptions {
  /** "/dev/video0", or a bare index "0" meaning /dev/video0. */
  readonly device: string;
  /** Else resolved with resolveFfmpeg() at check() or start(). */
  readonly ffmpegPath?: string;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  /** The format probe is one short ffmpeg run; this bounds it. */
  readonly probeTimeoutMs?: number;
}

/** The major device number Linux gives every video4linux device. */
const VIDEO_MAJOR = 81;

/** "0" -> "/dev/video0"; anything else is a path already. */
export function cameraDevicePath(device: string): string {
  return /^\d+$/.test(device) ? `/dev/video${device}` : device;
}

/** The V4L2 devices present, in numeric order: ["/dev/video0", "/dev/video2"]. */
export async function listCameras({ dir = '/dev' }: { dir?: string } = {}): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^video\d+$/.test(name))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((name) => join(dir, name));
}

/** A V4L2 camera. Its own MJPEG is passed through untouched when it offers it. */
export function camera(options: CameraOptions): Source {
  checkOptionsObject('camera', options, "{ device: '/dev/video0' }");
  checkText('device', options.device, "'/dev/video0' or '0'");
  checkSharedOptions(options);
  validateEncodeOptions(options);
  return new CameraSource(options);
}

class CameraSource implements Source {
  readonly kind = 'camera' as const;
  readonly description: string;
  readonly frameIntervalMs: number | undefined;
  readonly #device: string;
  readonly #options: CameraOptions;
  readonly #logger: Logger;
  readonly #feed: FfmpegFeed;
  #ffmpegPath: string | undefined;
  /** The probe's answer, kept: a camera's formats do not change while it is plugged in. */
  #mjpeg: { readonly offered: boolean; readonly sizes: readonly string[] } | undefined;
  #probe: { readonly abort: AbortController; readonly done: Promise<unknown> } | undefined;
  #toldEncoding = false;
  /** Bumped by every start() and stop(), so a start() that a stop() overtook gives up. */
  #generation = 0;

  constructor(options: CameraOptions) {
    this.#device = cameraDevicePath(options.device);
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.description = `${this.#device} (camera)`;
    this.frameIntervalMs = frameIntervalOf(options.fps);
    const { startTimeoutMs, stallTimeoutMs } = options;
    this.#feed = new FfmpegFeed({ label: this.description, startTimeoutMs, stallTimeoutMs });
  }

  /** Quick file-system checks only: nothing here opens the camera, so nothing needs stopping. */
  async check(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.#checkDevice();
    signal?.throwIfAborted();
    await this.#checkVideo4Linux();
    const piNode = piCameraNode(this.#device);
    if (piNode) {
      throw new CamcastError(
        'SOURCE_NOT_FOUND',
        `${this.#device} is the Raspberry Pi's camera module interface (${piNode}), which gives ffmpeg no picture: use --source picam (piCamera() in code)`,
      );
    }
    signal?.throwIfAborted();
    await this.#resolveFfmpeg();
  }

  async start(sink: FrameSink): Promise<void> {
    const generation = ++this.#generation;
    const current = () => {
      if (generation !== this.#generation) throw new CamcastError('CLOSED', `${this.description}: stopped while starting`);
    };
    await this.#checkDevice();
    const ffmpegPath = await this.#resolveFfmpeg();
    current();
    const mjpeg = this.#mjpeg ?? (await this.#probeMjpeg(ffmpegPath));
    current();
    const { width, height, fps, quality } = this.#options;
    const passthrough = mjpeg.offered && this.#passthroughFits(mjpeg.sizes);
    const args = cameraArgs({ device: this.#device, passthrough, mjpegInput: mjpeg.offered, width, height, fps, quality });
    this.#logger.debug(`${this.description}: ${passthrough ? 'passing its MJPEG through' : 'encoding to MJPEG'}: ffmpeg ${args.join(' ')}`);
    await this.#feed.start(sink, ffmpegPath, args);
  }

  async stop(): Promise<void> {
    this.#generation++;
    const probe = this.#probe;
    probe?.abort.abort();
    await Promise.all([probe?.done, this.#feed.stop()]);
  }

  async #checkDevice(): Promise<void> {
    const device = this.#device;
    let info;
    try {
      info = await stat(device);
    } catch {
      const present = await listCameras();
      const list = present.length > 0 ? present.join(', ') : 'none';
      throw new CamcastError('SOURCE_NOT_FOUND', `${device} not found; cameras present: ${list}`);
    }
    if (!info.isCharacterDevice()) {
      throw new CamcastError('SOURCE_NOT_FOUND', `${device} is not a camera (not a character device)`);
    }
    try {
      await access(device, constants.R_OK | constants.W_OK); // V4L2 opens devices read-write
    } catch {
      throw new CamcastError(
        'SOURCE_START_FAILED',
        `${device}: permission denied; add your user to the "video" group (sudo usermod -aG video $USER) and log in again`,
      );
    }
  }

  /**
   * Any character device passes #checkDevice (/dev/null, a serial port), and ffmpeg would then
   * fail on it at every retry. On Linux every V4L2 device has major number 81 (VIDEO_MAJOR), so
   * check() can tell. Not in start(): there ffmpeg's own error says it, and tests stand in for a
   * camera with /dev/null and a fake ffmpeg.
   */
  async #checkVideo4Linux(): Promise<void> {
    if (process.platform !== 'linux') return;
    const { rdev } = await stat(this.#device);
    // glibc's major(): bits 8-19 hold the major number of any device below major 4096.
    if ((Math.floor(rdev / 256) & 0xfff) === VIDEO_MAJOR) return;
    const present = await listCameras();
    const list = present.length > 0 ? present.join(', ') : 'none';
    throw new CamcastError('SOURCE_NOT_FOUND', `${this.#device} is not a camera (not a video4linux device); cameras present: ${list}`);
  }

  async #resolveFfmpeg(): Promise<string> {
    // The environment is the one the ffmpeg child inherits anyway.
    this.#ffmpegPath ??= this.#options.ffmpegPath ?? (await resolveFfmpeg({ env: process.env })).path;
    return this.#ffmpegPath;
  }

  /**
   * Copying the camera's own JPEGs costs next to nothing, but cannot change them: an asked
   * quality, or a size its MJPEG does not come in, means decoding and encoding (said once).
   */
  #passthroughFits(sizes: readonly string[]): boolean {
    const { width, height, quality } = this.#options;
    const size = `${width ?? 'any'}x${height ?? 'any'}`;
    // A stepwise range ({16-1920, 8}x{...}) is the driver's to fit; only a listed size can be missed.
    const sizeFits =
      (width === undefined && height === undefined) ||
      (width !== undefined && height !== undefined && (sizes.length === 0 || sizes.some((s) => s === size || s.startsWith('{'))));
    if (quality === undefined && sizeFits) return true;
    if (!this.#toldEncoding) {
      this.#toldEncoding = true;
      const why = quality !== undefined ? `quality ${quality} was asked` : `its MJPEG comes in ${sizes.join(', ') || 'other sizes'}, not ${size}`;
      this.#logger.info(`${this.description}: re-encoding its MJPEG (${why}); leave out the size and quality to pass it through at no CPU cost`);
    }
    return false;
  }

  /** Asks the camera for its formats; on any doubt, decode and encode (always works). */
  async #probeMjpeg(ffmpegPath: string): Promise<{ readonly offered: boolean; readonly sizes: readonly string[] }> {
    const abort = new AbortController();
    // ffmpeg exits with 1 after listing: the list is in stderr either way. A probe that cannot run
    // or times out leaves the list empty, which means encoding.
    const done = shortRun(ffmpegPath, listFormatsArgs(this.#device), { timeoutMs: this.#options.probeTimeoutMs ?? 5000, signal: abort.signal }).then(
      (run) => run.stderr,
      () => '',
    );
    this.#probe = { abort, done };
    const stderr = await done;
    if (this.#probe?.done === done) this.#probe = undefined;
    if (abort.signal.aborted) throw new CamcastError('CLOSED', `${this.description}: stopped while probing formats`);
    const { formats, mjpeg } = parseV4l2Formats(stderr);
    this.#logger.debug(`${this.description}: formats ${formats.map((f) => f.name).join(', ') || 'unknown'}`);
    const sizes = formats.find((f) => f.kind === 'compressed' && f.name === 'mjpeg' && !f.emulated)?.sizes ?? [];
    const answer = { offered: mjpeg, sizes };
    if (formats.length > 0) this.#mjpeg = answer; // an empty list may be a busy device: ask again next time
    return answer;
  }
}
