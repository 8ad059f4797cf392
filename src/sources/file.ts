import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CamcastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { EncodeOptions } from './encode-options.js';
import { fileArgs, validateEncodeOptions } from './ffmpeg-args.js';
import { resolveFfmpeg } from './ffmpeg-path.js';
import { FfmpegFeed } from './ffmpeg-process.js';
import type { FrameSink, Source } from './source.js';

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
}

/** A video file played at its own rate, as if it were a camera. */
export function file(options: FileOptions): Source {
  validateEncodeOptions(options);
  return new FileSource(options);
}

class FileSource implements Source {
  readonly kind = 'file' as const;
  readonly description: string;
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
    const { startTimeoutMs, stallTimeoutMs } = options;
    this.#feed = new FfmpegFeed({ label: this.description, startTimeoutMs, stallTimeoutMs, endOfInput: options.loop === false ? 'ended' : 'failed' });
  }

  async check(): Promise<void> {
    await this.#checkFile();
    await this.#resolveFfmpeg();
  }

  async start(sink: FrameSink): Promise<void> {
    const generation = ++this.#generation;
    await this.#checkFile();
    const ffmpegPath = await this.#resolveFfmpeg();
    if (generation !== this.#generation) throw new CamcastError('CLOSED', `${this.description}: stopped while starting`);
    const { loop, width, height, fps, quality } = this.#options;
    const args = fileArgs({ path: this.#path, loop, width, height, fps, quality });
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
    } catch {
      const given = this.#options.path;
      const where = given === path ? '' : ` (looked for ${path})`;
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

  async #resolveFfmpeg(): Promise<string> {
    // The environment is the one the ffmpeg child inherits anyway.
    this.#ffmpegPath ??= this.#options.ffmpegPath ?? (await resolveFfmpeg({ env: process.env })).path;
    return this.#ffmpegPath;
  }
}
