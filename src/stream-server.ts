import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Broadcaster } from './broadcaster.js';
import { CamcastError, describeError } from './errors.js';
import type { Frame } from './frame.js';
import { Routes } from './http/routes.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { SourceState } from './source-runner.js';
import { openSource, type OpenSourceOptions } from './sources/index.js';
import type { Source } from './sources/source.js';
import { testPattern } from './sources/test-pattern.js';
import { TypedEmitter } from './typed-emitter.js';

export interface StreamServerOptions extends OpenSourceOptions {
  /** A Source, or a --source style spec ('auto', 'test', '/dev/video0', a file, a URL). Default: the test pattern. */
  readonly source?: Source | string;
  readonly host?: string;
  /** 0 picks a free port (tests). */
  readonly port?: number;
  /** Seconds-free form of --idle-timeout: stop capturing this long after the last viewer; 0 = never. */
  readonly idleTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  readonly restartDelaysMs?: readonly number[];
  /** 0 = unlimited. */
  readonly maxViewers?: number;
  readonly snapshotTimeoutMs?: number;
  readonly cors?: string;
  readonly logger?: Logger;
}

export type StreamServerEvents = {
  frame: [frame: Frame];
  state: [state: SourceState, error: Error | undefined];
  viewers: [count: number];
  error: [error: Error];
};

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** http://host:port/ with IPv6 hosts in brackets. */
  readonly url: string;
}

/**
 * The one place that joins a source, its broadcaster and the HTTP layer into a server with the
 * usual verbs: listen() and close(). Two of these can run side by side in one process.
 */
export class StreamServer extends TypedEmitter<StreamServerEvents> {
  readonly source: Source;
  readonly broadcaster: Broadcaster;
  readonly routes: Routes;
  readonly #http: http.Server;
  readonly #host: string;
  readonly #port: number;
  readonly #idleTimeoutMs: number;
  readonly #logger: Logger;
  readonly #sockets = new Set<Socket>();
  #address: ListenAddress | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: StreamServerOptions = {}) {
    const { source = testPattern(options), host = '127.0.0.1', port = 8080, idleTimeoutMs = 10_000, logger = silentLogger } = options;
    super((error, event) => logger.error(`a '${String(event)}' listener threw: ${describeError(error)}`));
    this.source = typeof source === 'string' ? openSource(source, options).source : source;
    this.#host = host;
    this.#port = port;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#logger = logger;
    this.broadcaster = new Broadcaster(this.source, {
      idleTimeoutMs,
      stallTimeoutMs: options.stallTimeoutMs,
      restartDelaysMs: options.restartDelaysMs,
      logger,
    });
    this.broadcaster.on('frame', (frame) => this.emit('frame', frame));
    this.broadcaster.on('state', (state, error) => {
      this.emit('state', state, error);
      if (error) this.emit('error', error);
    });
    this.broadcaster.on('subscribers', () => this.emit('viewers', this.routes.stream.viewerCount));
    this.routes = new Routes({
      broadcaster: this.broadcaster,
      maxViewers: options.maxViewers,
      snapshotTimeoutMs: options.snapshotTimeoutMs,
      cors: options.cors,
      version: packageVersion(),
      logger,
    });
    this.#http = http.createServer(
      {
        // Slow or idle request senders (slowloris) are cut; a stream response itself has no limit.
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        keepAliveTimeout: 5_000,
        noDelay: true,
      },
      this.routes.handle,
    );
    this.#http.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#http.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      // Malformed or oversized requests get a plain 4xx and only their own socket is closed.
      if (!socket.writable || error.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  /** Where the server listens, once listen() has resolved. */
  get address(): ListenAddress | undefined {
    return this.#address;
  }

  async listen(): Promise<ListenAddress> {
    if (this.#closing) throw new CamcastError('CLOSED', 'this server was closed; create a new one');
    if (this.#address) return this.#address;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.#http.off('listening', onListening);
        reject(listenError(error, this.#host, this.#port));
      };
      const onListening = () => {
        this.#http.off('error', onError);
        resolve();
      };
      this.#http.once('error', onError);
      this.#http.once('listening', onListening);
      this.#http.listen(this.#port, this.#host);
    });
    this.#http.on('error', (error) => this.emit('error', error));
    const info = this.#http.address() as AddressInfo;
    const host = info.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    this.#address = { host, port: info.port, url: `http://${shown}:${info.port}/` };
    if (this.#idleTimeoutMs <= 0) this.broadcaster.startCapture();
    return this.#address;
  }

  /**
   * Stops accepting, ends every viewer, stops the source. Idempotent; resolves once every
   * socket, process and timer is gone.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.#http.listening) resolve();
      else this.#http.close(() => resolve());
    });
    this.routes.stream.endAll();
    this.#http.closeIdleConnections();
    await this.broadcaster.close();
    // Whatever did not end by itself (a stalled viewer, a half-sent request) is cut now.
    for (const socket of this.#sockets) socket.destroy();
    this.#http.closeAllConnections();
    await closed;
    this.removeAllListeners();
    this.#logger.debug('server closed');
  }
}

export function createServer(options: StreamServerOptions = {}): StreamServer {
  return new StreamServer(options);
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): CamcastError {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new CamcastError('PORT_IN_USE', `port ${port} on ${host} is already in use: stop the program using it or pick another with --port`, { cause: error });
  }
  if (error.code === 'EACCES') {
    return new CamcastError('LISTEN_FAILED', `not allowed to listen on ${where}: use a port above 1023 or run with the needed privileges`, { cause: error });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new CamcastError('LISTEN_FAILED', `cannot listen on ${where}: ${host} is not an address of this machine; check --host`, { cause: error });
  }
  return new CamcastError('LISTEN_FAILED', `cannot listen on ${where}: ${error.message}`, { cause: error });
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
