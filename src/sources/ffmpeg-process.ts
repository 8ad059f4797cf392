import { spawn, type ChildProcess } from 'node:child_process';
import { CamcastError, type ErrorCode } from '../errors.js';
import { preciseNow } from '../frame.js';
import { findExecutable } from './ffmpeg-path.js';
import { readJpegSize } from './jpeg-info.js';
import { JpegSplitter, type JpegSplitterStats } from './jpeg-splitter.js';
import { redactSecrets } from './redact.js';
import type { FrameSink } from './source.js';

export interface FfmpegProcessOptions {
  readonly ffmpegPath: string;
  /** From ffmpeg-args.ts; must write MJPEG to stdout. */
  readonly args: readonly string[];
  /** Each whole JPEG from stdout. Never called after stop() or after the exit was reported. */
  readonly onFrame: (jpeg: Buffer) => void;
  /**
   * After start() resolved, the process ended on its own: undefined when it exited with 0 (end of
   * input), else SOURCE_FAILED or SOURCE_STALLED. Called once the process and its pipes are gone.
   */
  readonly onExit?: (error: CamcastError | undefined) => void;
  /** Names the input in messages: "/dev/video0 (camera)". */
  readonly label?: string;
  /** Names the program in messages: "ffmpeg", or "rpicam-vid" for a Pi camera. */
  readonly program?: string;
  readonly startTimeoutMs?: number;
  /** No frame for this long after the first one: stop it and report SOURCE_STALLED. 0 disables. */
  readonly stallTimeoutMs?: number;
  /** SIGTERM lets ffmpeg close its input cleanly; SIGKILL follows after this long. */
  readonly stopGraceMs?: number;
  readonly maxFrameBytes?: number;
  /** The child's environment, and the PATH searched for setpriv. */
  readonly env?: NodeJS.ProcessEnv;
  /** Wrap in `setpriv --pdeathsig KILL` when available (see start()). */
  readonly pdeathsig?: boolean;
}

type State = 'idle' | 'starting' | 'running' | 'stopping' | 'exited';

/** How much of stderr is kept: its head says why ffmpeg failed; the rest repeats itself. */
const STDERR_HEAD_BYTES = 4096;

/**
 * Every ffmpeg still running when Node exits is SIGKILLed on the way out. An exit that does not
 * wait for stop() (process.exit() at a shutdown deadline shorter than the SIGKILL grace, or a
 * user's own) would otherwise leave an ffmpeg that ignored SIGTERM holding the camera; setpriv's
 * parent-death signal covers only Linux, and only with setpriv installed.
 */
const running = new Set<ChildProcess>();
const killRunning = (): void => {
  for (const child of running) child.kill('SIGKILL');
};

function track(child: ChildProcess): void {
  if (running.size === 0) process.on('exit', killRunning);
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) process.off('exit', killRunning);
  });
}

/**
 * One ffmpeg child writing MJPEG to stdout. "Failed to start" (start() rejects) is told apart
 * from "died later" (onExit), and stop() resolves only when the process is gone.
 */
export class FfmpegProcess {
  readonly #options: Required<Omit<FfmpegProcessOptions, 'onExit' | 'maxFrameBytes'>> &
    Pick<FfmpegProcessOptions, 'onExit'>;
  readonly #splitter: JpegSplitter;
  #state: State = 'idle';
  #child: ChildProcess | undefined;
  #stderr: Buffer[] = [];
  #stderrLength = 0;
  /** Why it is being killed (start timeout, stall), reported at exit instead of the exit code. */
  #reason: { readonly code: ErrorCode; readonly what: string } | undefined;
  #startTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #settleStart: { resolve: () => void; reject: (err: Error) => void } | undefined;
  #closed: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  constructor({
    ffmpegPath,
    args,
    onFrame,
    onExit,
    label = 'ffmpeg',
    program = 'ffmpeg',
    startTimeoutMs = 10_000,
    stallTimeoutMs = 10_000,
    stopGraceMs = 2_000,
    maxFrameBytes = 16 * 1024 * 1024,
    env = process.env,
    pdeathsig = true,
  }: FfmpegProcessOptions) {
    this.#options = { ffmpegPath, args, onFrame, onExit, label, program, startTimeoutMs, stallTimeoutMs, stopGraceMs, env, pdeathsig };
    this.#splitter = new JpegSplitter({ maxFrameBytes });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * The first few KB of ffmpeg's stderr, as text, with URL passwords masked: ffmpeg repeats its
   * input URL in full in its errors, and these words end up in front of every viewer.
   */
  get stderrHead(): string {
    return redactSecrets(Buffer.concat(this.#stderr).toString('utf8'));
  }

  get stats(): JpegSplitterStats {
    return this.#splitter.stats;
  }

  /** Resolves on the first frame; rejects (with nothing left running) if none comes. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error('FfmpegProcess.start() may be called once');
    this.#state = 'starting';
    const { ffmpegPath, args, env, pdeathsig, startTimeoutMs } = this.#options;
    // If Node itself is SIGKILLed it cannot stop its children, and an orphan ffmpeg would hold the
    // camera. setpriv (util-linux) asks the kernel to SIGKILL ffmpeg when its parent dies, then
    // execs it, so the pid is ffmpeg's. The signal follows the thread that spawned it: libuv
    // spawns from the event loop thread, which lives as long as the process (or its Worker).
    const setpriv =
      pdeathsig && process.platform === 'linux' ? await findExecutable('setpriv', { env }) : undefined;
    if (this.#state !== 'starting') {
      this.#state = 'exited';
      throw this.#stoppedBeforeFirstFrame();
    }
    const [command, argv] = setpriv
      ? [setpriv, ['--pdeathsig', 'KILL', '--', ffmpegPath, ...args]]
      : [ffmpegPath, [...args]];
    let child: ChildProcess;
    try {
      child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env, windowsHide: true });
    } catch (err) {
      // Arguments Node refuses outright (a NUL byte in a path); runtime failures come as 'error'.
      this.#state = 'exited';
      throw this.#error('SOURCE_START_FAILED', `cannot run ${ffmpegPath}: ${(err as Error).message}`);
    }
    const started = new Promise<void>((resolve, reject) => (this.#settleStart = { resolve, reject }));
    this.#child = child;
    if (child.pid !== undefined) track(child);
    this.#closed = new Promise((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.#onClose(code, signal);
        resolve();
      });
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Spawn failures ('close' follows) and failed kill()s (harmless: it is exiting anyway).
      if (child.pid === undefined) this.#reason ??= { code: 'SOURCE_START_FAILED', what: `cannot run ${ffmpegPath}: ${err.message}` };
    });
    // Out of file descriptors (EMFILE), spawn() returns before making the pipes: there are none
    // to listen to, and the 'error' and 'close' that follow reject `started` with the reason.
    child.stdout?.on('data', (chunk: Buffer) => this.#onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.#onStderr(chunk));
    // A pipe error is followed by the process ending, which is what gets reported.
    child.stdout?.on('error', () => {});
    child.stderr?.on('error', () => {});
    this.#startTimer = setTimeout(() => {
      this.#reason ??= { code: 'SOURCE_START_FAILED', what: `no frame from ${this.#options.program} within ${startTimeoutMs / 1000} s` };
      this.#terminate();
    }, startTimeoutMs);
    return started;
  }

  /** Idempotent: SIGTERM, SIGKILL after the grace period; resolves when process and pipes are gone. */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#state === 'starting' || this.#state === 'running') {
      this.#state = 'stopping';
      this.#terminate();
    } else if (this.#state === 'idle') {
      this.#state = 'exited';
    }
    this.#stopping = this.#closed ?? Promise.resolve();
    return this.#stopping;
  }

  #onStdout(chunk: Buffer): void {
    // Stopping, or being killed for a timeout or stall: the source is already over.
    if (this.#reason || (this.#state !== 'starting' && this.#state !== 'running')) return;
    for (const jpeg of this.#splitter.push(chunk)) {
      if (this.#state === 'starting') {
        this.#state = 'running';
        clearTimeout(this.#startTimer);
        this.#armStallTimer();
        this.#settleStart?.resolve();
      } else {
        this.#stallTimer?.refresh();
      }
      this.#options.onFrame(jpeg);
      if (this.#state !== 'running') return; // onFrame stopped it
    }
  }

  #onStderr(chunk: Buffer): void {
    if (this.#stderrLength >= STDERR_HEAD_BYTES) return;
    const piece = chunk.subarray(0, STDERR_HEAD_BYTES - this.#stderrLength);
    this.#stderr.push(piece);
    this.#stderrLength += piece.length;
  }

  #armStallTimer(): void {
    const { stallTimeoutMs } = this.#options;
    if (stallTimeoutMs <= 0) return;
    this.#stallTimer = setTimeout(() => {
      this.#reason ??= { code: 'SOURCE_STALLED', what: `no frame from ${this.#options.program} for ${stallTimeoutMs / 1000} s; stopped it` };
      this.#terminate();
    }, stallTimeoutMs);
  }

  #terminate(): void {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    this.#killTimer ??= setTimeout(() => child.kill('SIGKILL'), this.#options.stopGraceMs);
  }

  #onClose(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.#startTimer);
    clearTimeout(this.#stallTimer);
    clearTimeout(this.#killTimer);
    const previous = this.#state;
    this.#state = 'exited';
    this.#splitter.reset();
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const reason = this.#reason ? this.#error(this.#reason.code, this.#reason.what) : undefined;
    if (previous === 'starting') {
      this.#settleStart?.reject(reason ?? this.#error('SOURCE_START_FAILED', `${this.#options.program} ${how} before the first frame`));
    } else if (previous === 'stopping') {
      this.#settleStart?.reject(this.#stoppedBeforeFirstFrame()); // no-op once start resolved
    } else if (previous === 'running') {
      this.#options.onExit?.(reason ?? (code === 0 ? undefined : this.#error('SOURCE_FAILED', `${this.#options.program} ${how}`)));
    }
  }

  #error(code: ErrorCode, what: string): CamcastError {
    return new CamcastError(code, this.#withStderr(`${this.#options.label}: ${what}`));
  }

  #stoppedBeforeFirstFrame(): CamcastError {
    return new CamcastError('CLOSED', `${this.#options.label}: stopped before the first frame`);
  }

  /** One line: the message, then ffmpeg's own words (its stderr head, lines joined). */
  #withStderr(message: string): string {
    const { args, label } = this.#options;
    // ffmpeg starts an input's error with the input ("rtsp://cam/1: Invalid data found..."): where
    // the label already names it, that would say it twice. Cut before masking, which may reshape it.
    const named = inputsOf(args)
      .filter((input) => label.includes(redactSecrets(input)))
      .map((input) => `${input}: `);
    const lines = Buffer.concat(this.#stderr)
      .toString('utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .map((line) => {
        const prefix = named.find((p) => line.startsWith(p) && line.length > p.length);
        return prefix === undefined ? line : line.slice(prefix.length);
      });
    const head = redactSecrets(lines.join(' | '));
    if (head === '') return message;
    return `${message}: ${head.length > 600 ? `${head.slice(0, 600)}...` : head}`;
  }
}

/** The value of every `-i` in ffmpeg's argv. */
function inputsOf(args: readonly string[]): string[] {
  return args.flatMap((arg, i) => (arg === '-i' && i + 1 < args.length ? [args[i + 1]!] : []));
}

export interface FfmpegFeedOptions {
  readonly label: string;
  /** The program run, as messages name it (default "ffmpeg"). */
  readonly program?: string;
  readonly startTimeoutMs?: number;
  /** 0 (the default) leaves stall detection to the SourceRunner, which has the user's setting. */
  readonly stallTimeoutMs?: number;
  /**
   * What ffmpeg exiting with 0 means. Only a file played once really ends; for a camera or a
   * network input ffmpeg also exits 0 when its input breaks off, which is a failure to retry.
   */
  readonly endOfInput?: 'ended' | 'failed';
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * What camera, file and url sources share: at most one FfmpegProcess at a time, its JPEGs handed
 * to a FrameSink with their size, and its later exit turned into sink.failed() or sink.ended()
 * once it is gone, so the source is already stopped when the sink hears of it.
 */
export class FfmpegFeed {
  readonly #options: FfmpegFeedOptions;
  #process: FfmpegProcess | undefined;

  constructor(options: FfmpegFeedOptions) {
    // `??`, not defaults spread first: a source passes its own options on, and an explicit
    // `stallTimeoutMs: undefined` would otherwise reach FfmpegProcess and become its 10 s.
    this.#options = { ...options, stallTimeoutMs: options.stallTimeoutMs ?? 0, endOfInput: options.endOfInput ?? 'failed' };
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  async start(sink: FrameSink, ffmpegPath: string, args: readonly string[]): Promise<void> {
    if (this.#process) throw new CamcastError('SOURCE_START_FAILED', `${this.#options.label} is already running`);
    const { endOfInput, ...processOptions } = this.#options;
    const ffmpeg: FfmpegProcess = new FfmpegProcess({
      ...processOptions,
      ffmpegPath,
      args,
      onFrame: (jpeg) => sink.frame({ jpeg, capturedAt: preciseNow(), ...readJpegSize(jpeg) }),
      onExit: (error) => {
        if (this.#process === ffmpeg) this.#process = undefined;
        if (error) sink.failed(error);
        else if (endOfInput === 'ended') sink.ended();
        else sink.failed(new CamcastError('SOURCE_FAILED', `${this.#options.label}: the input ended (${this.#options.program ?? 'ffmpeg'} exited with code 0)`));
      },
    });
    this.#process = ffmpeg;
    try {
      await ffmpeg.start();
    } catch (err) {
      if (this.#process === ffmpeg) this.#process = undefined;
      throw err;
    }
  }

  async stop(): Promise<void> {
    const ffmpeg = this.#process;
    this.#process = undefined;
    await ffmpeg?.stop();
  }
}
