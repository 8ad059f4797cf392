import { spawn } from 'node:child_process';

export interface ShortRunOptions {
  /** Killed (SIGKILL: a probe has nothing to close cleanly) once it runs this long. */
  readonly timeoutMs: number;
  /** Aborting kills the process; the run then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Each of stdout and stderr is kept up to this many bytes; a probe's answer is at the top. */
  readonly maxOutputBytes?: number;
}

export interface ShortRunResult {
  /** The exit code, or null when it was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** It ran past timeoutMs and was killed. */
  readonly timedOut: boolean;
}

/**
 * One short run of a program whose output is all that matters (ffmpeg probing a file or a
 * camera's formats): bounded in time and output, abortable. Settles only once the process has
 * exited, so nothing outlives the promise. Rejects when the program cannot be run at all (the
 * spawn error, e.g. ENOENT) and with `signal.reason` when aborted.
 */
export function shortRun(command: string, args: readonly string[], { timeoutMs, signal, maxOutputBytes = 64 * 1024 }: ShortRunOptions): Promise<ShortRunResult> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted(); // a rejection, like every other outcome
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    // First, before anything can throw: out of file descriptors (EMFILE), spawn() returns a child
    // without pipes whose 'error' comes later, and an 'error' without a listener ends the process.
    let spawnError: Error | undefined;
    child.on('error', (error) => (spawnError ??= error)); // 'close' follows
    const stdout = new OutputHead(maxOutputBytes);
    const stderr = new OutputHead(maxOutputBytes);
    let timedOut = false;
    child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
    // A pipe error is followed by the process ending, which is what gets reported.
    child.stdout?.on('error', () => {});
    child.stderr?.on('error', () => {});
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    child.once('close', (code: number | null) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) reject(signal.reason);
      else if (spawnError && child.pid === undefined) reject(spawnError);
      else resolve({ code, stdout: stdout.text(), stderr: stderr.text(), timedOut });
    });
  });
}

/** The first `max` bytes of a stream, as text. */
class OutputHead {
  readonly #max: number;
  readonly #chunks: Buffer[] = [];
  #length = 0;

  constructor(max: number) {
    this.#max = max;
  }

  add(chunk: Buffer): void {
    if (this.#length >= this.#max) return;
    const piece = chunk.subarray(0, this.#max - this.#length);
    this.#chunks.push(piece);
    this.#length += piece.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
