import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CamcastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { checkText } from '../option-checks.js';
import { frameIntervalOf, type EncodeOptions } from './encode-options.js';
import { fileArgs, probeFileArgs, STILL_IMAGE_FPS, stillImageArgs, validateEncodeOptions } from './ffmpeg-args.js';
import { resolveFfmpeg } from './ffmpeg-path.js';
import { jpegEnd } from './jpeg-info.js';
import { FfmpegFeed } from './ffmpeg-process.js';
import { shortRun } from './short-run.js';
import type { FrameSink, Source } from './source.js';
import { checkOptionsObject } from '../option-checks.js';
import { checkSharedOptions } from './source-options.js';

export interface FileOptions extends EncodeOptions {
  /** Any video file ffmpeg reads; relative paths are resolved against the working directory. */
  readonly path: string;
  /** Start again at the end (default), or play once and then call sink.ended(). */
  readonly loop?: boolean;
  /** Else resolved with resolveFfmpeg() at check() or start(). */
  readonly ffmpegPath?: string;
  readonly logger?: Logger;
  readonly startTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  /** check() has ffmpeg decode the first frame; this bounds that run (default 5000). */
  readonly probeTimeoutMs?: number;
}

/** A video file played at its own rate, as if it were a camera. */
export function file(options: FileOptions): Source {
  checkOptionsObject('file', options, "{ path: 'clip.mp4' }");
  checkText('path', options.path, "'clip.mp4'");
  checkSharedOptions(options);
  validateEncodeOptions(options);
  return new FileSource(options);
}

class FileSource implements Source {
  readonly kind = 'file' as const;
  readonly description: string;
  /** Known once start() has seen whether it is a still picture. */
  frameIntervalMs: number | undefined;
  readonly #path: string;
  readonly #options: FileOptions;
  readonly #logger: Logger;
  readonly #feed: FfmpegFeed;
  #ffmpegPath: string | undefined;
  /** Bumped by every start() and stop(), so a start() that a stop() overtook gives up. */
  #generation = 0;

  constructor(options: FileOptions) {
    // Absolute, so the description and ffmpeg agree even if the working directory changes.
    this.#path = resolve(options.path);
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.description = `${this.#path} (file${options.loop === false ? '' : ', looping'})`;
    // Without fps a video keeps its own rate, unknown here.
    this.frameIntervalMs = frameIntervalOf(options.fps);
    const { startTimeoutMs, stallTimeoutMs } = options;
    this.#feed = new FfmpegFeed({ label: this.description, startTimeoutMs, stallTimeoutMs, endOfInput: options.loop === false ? 'ended' : 'failed' });
  }

  /**
   * The file exists and is readable, and ffmpeg decodes a first video frame from it: a file that
   * is no video (or has no video stream) would otherwise pass, then fail and retry forever.
   */
  async check(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.#checkFile();
    signal?.throwIfAborted();
    const ffmpegPath = await this.#resolveFfmpeg();
    await this.#probe(ffmpegPath, signal);
  }

  async start(sink: FrameSink): Promise<void> {
    const generation = ++this.#generation;
    await this.#checkFile();
    const ffmpegPath = await this.#resolveFfmpeg();
    if (generation !== this.#generation) throw new CamcastError('CLOSED', `${this.description}: stopped while starting`);
    const { loop, width, height, fps, quality } = this.#options;
    const still = await isStillImage(this.#path);
    if (still && fps === undefined) this.frameIntervalMs = 1000 / STILL_IMAGE_FPS;
    const args = (still ? stillImageArgs : fileArgs)({ path: this.#path, loop, width, height, fps, quality });
    this.#logger.debug(`${this.description}: ffmpeg ${args.join(' ')}`);
    await this.#feed.start(sink, ffmpegPath, args);
  }

  async stop(): Promise<void> {
    this.#generation++;
    await this.#feed.stop();
  }

  async #checkFile(): Promise<void> {
    const path = this.#path;
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      const given = this.#options.path;
      const where = given === path ? '' : ` (looked for ${path})`;
      // A folder on the way that may not be entered hides the file: "not found" would mislead.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        throw new CamcastError('SOURCE_START_FAILED', `video file ${given} cannot be reached${where}: permission denied on a folder in its path`);
      }
      throw new CamcastError('SOURCE_NOT_FOUND', `video file ${given} not found${where}: check the path`);
    }
    if (!info.isFile()) {
      throw new CamcastError('SOURCE_START_FAILED', `${path} is not a regular file: give the path of a video file`);
    }
    try {
      await access(path, constants.R_OK);
    } catch {
      throw new CamcastError('SOURCE_START_FAILED', `${path} is not readable: check its permissions`);
    }
  }

  async #probe(ffmpegPath: string, signal: AbortSignal | undefined): Promise<void> {
    const path = this.#path;
    const timeoutMs = this.#options.probeTimeoutMs ?? 5000;
    let run;
    try {
      run = await shortRun(ffmpegPath, probeFileArgs(path), { timeoutMs, signal });
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw new CamcastError('FFMPEG_NOT_FOUND', `cannot run ffmpeg at ${ffmpegPath} (${(error as Error).message}): set ffmpegPath or FFMPEG_PATH to a working ffmpeg`, { cause: error });
    }
    if (run.timedOut) {
      throw new CamcastError('SOURCE_START_FAILED', `${path}: ffmpeg decoded no video frame from it within ${timeoutMs / 1000} s; check the file; one on a slow network mount may need copying to a local disk (or, from code, a larger probeTimeoutMs)`);
    }
    // framecrc prints "#" header lines, then one "stream, dts, pts, ..." line per decoded frame.
    if (run.code === 0 && /^\d+,/m.test(run.stdout)) return;
    const reason = firstFfmpegError(run.stderr, path);
    // Not the file's fault: the program is no ffmpeg (ffprobe, a wrapper, /bin/true). A real one
    // knows its own options, and writes framecrc's header whenever it exits 0.
    if (/(Unrecognized option|Option not found|Option \S+ not found)/i.test(run.stderr) || (run.code === 0 && !run.stdout.startsWith('#'))) {
      throw new CamcastError('FFMPEG_NOT_FOUND', `${ffmpegPath} does not behave as ffmpeg (${reason ?? 'it printed nothing'}): point FFMPEG_PATH (or ffmpegPath) at ffmpeg itself`);
    }
    if (reason === NO_VIDEO) {
      throw new CamcastError('SOURCE_START_FAILED', `${path} has no video stream (audio only?): give a video file`);
    }
    const how = run.code === null ? 'ffmpeg was killed' : `ffmpeg exited with code ${run.code}`;
    const why = reason ?? (run.code === 0 ? 'no video frame could be decoded' : how);
    throw new CamcastError('SOURCE_START_FAILED', `${path} is not a video ffmpeg can play: ${why}; give a complete video file`);
  }

  async #resolveFfmpeg(): Promise<string> {
    // The environment is the one the ffmpeg child inherits anyway.
    this.#ffmpegPath ??= this.#options.ffmpegPath ?? (await resolveFfmpeg({ env: process.env })).path;
    return this.#ffmpegPath;
  }
}

/** What firstFfmpegError() returns when the input has no video stream to map. */
export const NO_VIDEO = 'no video stream';

/**
 * The first line of ffmpeg's stderr that says what is wrong, without its "[mov,mp4 @ 0x55...]"
 * tag or the "file:/path: " prefix (the message names the file already): "moov atom not found",
 * "Invalid data found when processing input", or NO_VIDEO for a file without a video stream.
 */
export function firstFfmpegError(stderr: string, path: string): string | undefined {
  for (const raw of stderr.split(/\r?\n/)) {
    const line = raw
      .replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/i, '')
      .replace(`file:${path}: `, '')
      .trim();
    if (line === '') continue;
    if (/^Stream map '0:v:0' matches no streams/i.test(line)) return NO_VIDEO;
    // One line for a human, whatever ffmpeg found to say.
    return line.length > 200 ? `${line.slice(0, 200)}...` : line;
  }
  return undefined;
}

/** How much of a JPEG file isStillImage() reads to find where its first picture ends. */
const JPEG_LOOK_BYTES = 8 * 1024 * 1024;

/**
 * Whether a file is a still picture (JPEG, PNG, BMP), whatever its name: it plays as a one-frame
 * video, and needs stillImageArgs() to be shown for longer than a frame. A JPEG followed by
 * another is an MJPEG video (what rpicam-vid or ffmpeg -f mjpeg write), and GIF and WebP may be
 * animated: those play as videos.
 */
export async function isStillImage(path: string): Promise<boolean> {
  let bytes: Buffer;
  try {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      bytes = Buffer.alloc(Math.min(size, JPEG_LOOK_BYTES));
      await handle.read(bytes, 0, bytes.length, 0);
    } finally {
      await handle.close();
    }
  } catch {
    return false; // start() reports an unreadable file its own way
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    const end = jpegEnd(bytes);
    // Not ended within what was read: one picture of over 8 MB, no video frame.
    if (end === undefined) return bytes.length === JPEG_LOOK_BYTES;
    return !(bytes[end] === 0xff && bytes[end + 1] === 0xd8);
  }
  const png = bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const bmp = bytes[0] === 0x42 && bytes[1] === 0x4d;
  return png || bmp;
}
