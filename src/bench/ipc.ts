import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describeError } from '../errors.js';

/**
 * The bench's child processes (servers, load clients, the encode runner) answer commands sent
 * over the IPC channel. Every command carries an id and gets exactly one reply with that id.
 */
export interface Command {
  readonly id: number;
  readonly cmd: string;
  readonly [key: string]: unknown;
}

export interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly [key: string]: unknown;
}

/** Child side: routes each command to its handler and sends the answer back. */
export function serveCommands(handlers: Record<string, (command: Command) => unknown>): void {
  process.on('message', (message: Command) => {
    const handler = handlers[message.cmd];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${message.cmd}`);
        return handler(message);
      })
      .then(
        (result) => process.send?.({ id: message.id, ok: true, ...(result as object) }),
        (error: unknown) => process.send?.({ id: message.id, ok: false, error: describeError(error) }),
      );
  });
  // The bench died: never outlive it.
  process.on('disconnect', () => process.exit(0));
}

/** Parent side: one forked child and its commands, each answered or timed out. */
export class Child {
  readonly process: ChildProcess;
  readonly name: string;
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #nextId = 1;
  #exited: Promise<void>;
  /** The child's first message (id 0): it is up, with whatever it reports (a port). */
  readonly ready: Promise<Reply>;
  exitCode: number | null | undefined;

  constructor(name: string, module: URL, args: readonly string[] = [], { execArgv = [] as string[], nofile }: { execArgv?: string[]; nofile?: number } = {}) {
    this.name = name;
    // `prlimit` raises the open-file limit for this child only when the bench's own is too low.
    const wrap = nofile !== undefined ? { execPath: 'prlimit', execArgv: [`--nofile=${nofile}:${nofile}`, '--', process.execPath, ...execArgv] } : { execArgv };
    this.process = fork(module, [...args], { ...wrap, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let onReady: (r: Reply) => void = () => {};
    let onFailedStart: (e: Error) => void = () => {};
    this.ready = new Promise<Reply>((resolve, reject) => {
      onReady = resolve;
      onFailedStart = reject;
    });
    this.ready.catch(() => {});
    this.process.on('message', (reply: Reply) => {
      if (reply.id === 0) onReady(reply);
      const waiter = this.#waiting.get(reply.id);
      if (!waiter) return;
      this.#waiting.delete(reply.id);
      clearTimeout(waiter.timer);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(`${this.name}: ${reply.error}`));
    });
    this.#exited = once(this.process, 'exit').then(([code]) => {
      this.exitCode = code as number | null;
      onFailedStart(new Error(`${this.name} exited (${String(code)}) before it was ready`));
      for (const [id, waiter] of this.#waiting) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`${this.name} exited (${String(code)}) before answering`));
        this.#waiting.delete(id);
      }
    });
    this.process.on('error', () => {});
  }

  request<T extends Reply = Reply>(cmd: string, payload: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    if (this.exitCode !== undefined) return Promise.reject(new Error(`${this.name} has exited (${String(this.exitCode)})`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${this.name} did not answer '${cmd}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, { resolve: resolve as (r: Reply) => void, reject, timer });
      this.process.send({ id, cmd, ...payload });
    });
  }

  /** Asks the child to stop, then kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exitCode === undefined) {
      this.request('stop', {}, graceMs).catch(() => {});
      const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}
