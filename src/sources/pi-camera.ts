import { readFileSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CamcastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkNumber, checkOptionsObject, checkText } from '../option-checks.js';
import { DEFAULT_QUALITY, frameIntervalOf, validateEncodeOptions, type EncodeOptions } from './encode-options.js';
import { findExecutable, isExecutable } from './ffmpeg-path.js';
import { FfmpegFeed } from './ffmpeg-process.js';
import { shortRun } from './short-run.js';
import type { FrameSink, Source } from './source.js';
import { checkSharedOptions } from './source-options.js';

export interface PiCameraOptions extends EncodeOptions {
  /** Which camera module, as `rpicam-hello --list-cameras` numbers them (default 0). */
  readonly camera?: number;
  /** Else `rpicam-vid`, then `libcamera-vid` (its name before Raspberry Pi OS 12), from the PATH. */
  readonly rpicamPath?: string;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  /** check() lists the cameras with one short run; this bounds it. */
  readonly probeTimeoutMs?: number;
}

/** The programs that drive a Pi camera module, newest name first. */
const PROGRAMS = ['rpicam-vid', 'libcamera-vid'] as const;

/**
 * The video4linux nodes of the Pi's own camera interfaces (unicam up to the Pi 4, rp1-cfe on the
 * Pi 5). They carry the sensor's raw Bayer data and need libcamera's pipeline to configure them,
 * so ffmpeg or any plain V4L2 program gets no picture from them.
 */
const PI_CAMERA_NODE = /^(unicam|rp1-cfe)/;

/**
 * The argv of rpicam-vid streaming MJPEG to stdout, without the program itself. Pure, like
 * ffmpeg-args.ts: the only place that knows rpicam-vid's flags.
 */
export function piCameraArgs({ camera = 0, width, height, fps, quality = DEFAULT_QUALITY }: PiCameraOptions): string[] {
  // prettier-ignore
  return [
    '--camera', String(camera),
    '--timeout', '0', // run until stopped (the default is 5 s)
    '--nopreview',
    // 0: only errors on stderr, which is kept and shown; libcamera's start-up chatter would
    // otherwise fill the head of it.
    '--verbose', '0',
    '--codec', 'mjpeg',
    // stdout is a pipe, so stdio buffers it in blocks: without this, each frame's last block
    // waits for the next frame, a frame of latency.
    '--flush',
    ...(width !== undefined && height !== undefined ? ['--width', String(width), '--height', String(height)] : []),
    ...(fps !== undefined ? ['--framerate', String(fps)] : []),
    // rpicam-vid's own default is 50, far below what camcast encodes elsewhere.
    '--quality', String(quality),
    '--output', '-',
  ];
}

export interface ListedPiCamera {
  readonly index: number;
  /** The sensor: "imx708". */
  readonly model: string;
}

/** The cameras in `rpicam-vid --list-cameras` output ("0 : imx708 [4608x2592 10-bit RGGB] (/base/...)"). */
export function parsePiCameraList(stdout: string): ListedPiCamera[] {
  return [...stdout.matchAll(/^(\d+) : (\S+)/gm)].map((m) => ({ index: Number(m[1]), model: m[2]! }));
}

/**
 * The driver name of a video4linux node when it is a Pi camera interface ("unicam-image",
 * "rp1-cfe-csi2_ch0"), else undefined: also for anything unreadable, which is then no Pi camera.
 */
export function piCameraNode(device: string, { sysDir = '/sys/class/video4linux' }: { sysDir?: string } = {}): string | undefined {
  try {
    // /dev/v4l/by-id/... links name the same node.
    const name = readFileSync(join(sysDir, basename(realpathSync(device)), 'name'), 'utf8').trim();
    return PI_CAMERA_NODE.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** A Raspberry Pi camera module (CSI), through rpicam-vid's own MJPEG; ffmpeg is not involved. */
export function piCamera(options: PiCameraOptions = {}): Source {
  checkOptionsObject('piCamera', options, '{ camera: 0, width: 1280, height: 720 }');
  checkNumber('camera', options.camera, { max: 63, integer: true });
  if (options.rpicamPath !== undefined) checkText('rpicamPath', options.rpicamPath, "'/usr/bin/rpicam-vid'");
  if ((options.width === undefined) !== (options.height === undefined)) {
    throw new CamcastError('BAD_OPTION', 'a Pi camera takes width and height together, or neither (its default is 640x480)');
  }
  checkSharedOptions(options);
  validateEncodeOptions(options);
  return new PiCameraSource(options);
}

class PiCameraSource implements Source {
  readonly kind = 'picamera' as const;
  readonly description: string;
  readonly frameIntervalMs: number | undefined;
  readonly #options: PiCameraOptions;
  readonly #logger: Logger;
  readonly #index: number;
  #feed: FfmpegFeed | undefined;
  #program: { readonly path: string; readonly name: string } | undefined;
  /** Bumped by every start() and stop(), so a start() that a stop() overtook gives up. */
  #generation = 0;

  constructor(options: PiCameraOptions) {
    this.#options = options;
    this.#index = options.camera ?? 0;
    this.#logger = options.logger ?? silentLogger;
    this.description = `Pi camera ${this.#index}`;
    this.frameIntervalMs = frameIntervalOf(options.fps);
  }

  /** The program is there and sees this camera: a missing package or cable fails at once, in one line. */
  async check(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { path, name } = await this.#resolve();
    signal?.throwIfAborted();
    const run = await shortRun(path, ['--list-cameras'], { timeoutMs: this.#options.probeTimeoutMs ?? 10_000, signal }).catch((error: unknown) => {
      if (signal?.aborted) throw error;
      return undefined;
    });
    // A listing that did not run through (timed out, crashed) says nothing for sure: start() will.
    if (!run || run.timedOut || run.code !== 0) return;
    const cameras = parsePiCameraList(run.stdout);
    if (cameras.some((c) => c.index === this.#index)) return;
    if (cameras.length === 0) {
      throw new CamcastError(
        'SOURCE_NOT_FOUND',
        `${name} --list-cameras finds no camera module: check its ribbon cable (contacts facing the right way, the machine off while plugging) and that camera_auto_detect=1 is in /boot/firmware/config.txt`,
      );
    }
    const present = cameras.map((c) => `${c.index} (${c.model})`).join(', ');
    throw new CamcastError('SOURCE_NOT_FOUND', `${this.description} not found; cameras present: ${present}`);
  }

  async start(sink: FrameSink): Promise<void> {
    const generation = ++this.#generation;
    const { path, name } = await this.#resolve();
    if (generation !== this.#generation) throw new CamcastError('CLOSED', `${this.description}: stopped while starting`);
    const args = piCameraArgs(this.#options);
    this.#logger.debug(`${this.description}: ${name} ${args.join(' ')}`);
    const { startTimeoutMs, stallTimeoutMs } = this.#options;
    this.#feed ??= new FfmpegFeed({ label: this.description, program: name, startTimeoutMs, stallTimeoutMs });
    await this.#feed.start(sink, path, args);
  }

  async stop(): Promise<void> {
    this.#generation++;
    await this.#feed?.stop();
  }

  async #resolve(): Promise<{ readonly path: string; readonly name: string }> {
    if (this.#program) return this.#program;
    const explicit = this.#options.rpicamPath;
    if (explicit !== undefined) {
      if (!(await isExecutable(explicit))) throw new CamcastError('SOURCE_NOT_FOUND', `rpicamPath ${explicit} is not an executable file`);
      this.#program = { path: explicit, name: basename(explicit) };
      return this.#program;
    }
    for (const name of PROGRAMS) {
      const path = await findExecutable(name, { env: process.env });
      if (path !== undefined) {
        this.#program = { path, name };
        return this.#program;
      }
    }
    throw new CamcastError(
      'SOURCE_NOT_FOUND',
      `${this.description}: neither rpicam-vid nor libcamera-vid is installed: on Raspberry Pi OS, sudo apt install rpicam-apps (or rpicam-apps-lite)`,
    );
  }
}
