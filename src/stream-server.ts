import http from 'node:http';
import https from 'node:https';
import { Socket, type AddressInfo } from 'node:net';
import type { Broadcaster } from './broadcaster.js';
import { captureFromListen, LiveStream, type LiveStreamEvents, type LiveStreamOptions, type ServerLiveStreamOptions } from './live-stream.js';
import { CamcastError, describeError } from './errors.js';
import { checkToken } from './http/access.js';
import { Routes } from './http/routes.js';
import { corsOrigins } from './http/cors-origin.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { checkDelay, checkNumber, checkOptionsObject, checkText } from './option-checks.js';
import type { Source } from './sources/source.js';

import { testPattern } from './sources/test-pattern.js';
import { checkLiveStreamOptions, checkSourceOption } from './stream-options.js';
import { TypedEmitter } from './typed-emitter.js';

export interface StreamServerOptions extends LiveStreamOptions {
  /** A Source, or a --source style spec ('auto', 'test', '/dev/video0', a file, a URL). Default: the test pattern. */
  readonly source?: Source | string;
  readonly host?: string;
  /** 0 picks a free port (tests). */
  readonly port?: number;
  /**
   * Origins allowed to read with fetch(): one as a string, several as an array, or '*' for any.
   * Each is normalised as browsers send it (scheme://host[:port]).
   */
  readonly cors?: string | readonly string[];
  /** HTTP Basic credentials required on every route but /api/health. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** A token accepted as ?token= or Authorization: Bearer on every route but /api/health. */
  readonly token?: string;
  /** PEM certificate and key: serve HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** A client must send its request headers within this time (slowloris guard). */
  readonly headersTimeoutMs?: number;
  /** A client must send its whole request within this time; responses (streams) are not limited. */
  readonly requestTimeoutMs?: number;
}

/** The same events as a LiveStream's: frame, state, viewers, viewer-joined, viewer-left, error. */
export type StreamServerEvents = LiveStreamEvents;

const LIVE_EVENTS: ReadonlyArray<keyof LiveStreamEvents> = ['frame', 'state', 'viewers', 'viewer-joined', 'viewer-left', 'error'];

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** http(s)://host:port/ with IPv6 hosts in brackets. */
  readonly url: string;
}

/**
 * The one place that joins a source, its broadcaster and the HTTP layer into a server with the
 * usual verbs: listen() and close(). Two of these can run side by side in one process.
 */
export class StreamServer extends TypedEmitter<StreamServerEvents> {
  readonly source: Source;
  readonly live: LiveStream;
  readonly broadcaster: Broadcaster;
  readonly routes: Routes;
  readonly #http: http.Server | https.Server;
  readonly #scheme: 'http' | 'https';
  readonly #host: string;
  readonly #port: number;
  readonly #logger: Logger;
  readonly #options: StreamServerOptions;
  readonly #sockets = new Set<Socket>();
  #address: ListenAddress | undefined;
  #listening: Promise<ListenAddress> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: StreamServerOptions = {}) {
    checkServerOptions(options);
    const { source = testPattern(options), host = '127.0.0.1', port = 8080, logger = silentLogger } = options;
    super((error, event) => logger.error(`a '${String(event)}' listener threw: ${describeError(error)}`));
    this.#host = host;
    this.#port = port;
    this.#logger = logger;
    this.#options = options;
    const requestTimeout = options.requestTimeoutMs ?? 30_000;
    // The headers are part of the request, so they get at most its time (Node refuses more).
    const headersTimeout = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout);
    const serverOptions: http.ServerOptions = {
      // Slow or idle request senders (slowloris) are cut; a stream response itself has no limit.
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: 5_000,
      // How often those timeouts are checked (Node's default, 30 s, would let them overrun).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
      noDelay: true,
    };
    this.#scheme = options.tls ? 'https' : 'http';
    // The HTTP(S) server first: a bad certificate must fail before any capture exists.
    const handle: http.RequestListener = (req, res) => this.routes.handle(req, res);
    this.#http = options.tls ? createHttpsServer(serverOptions, options.tls, handle) : http.createServer(serverOptions, handle);
    // The capture and its handlers are a LiveStream, exactly as a library user mounts them;
    // this class only adds the viewer page, the URL aliases, access control and the socket.
    // Its /metrics speaks for the process too: this server is usually the whole program.
    const liveOptions: ServerLiveStreamOptions = { ...options, [captureFromListen]: true, processMetrics: options.processMetrics ?? true };
    this.live = new LiveStream(source, liveOptions);
    this.source = this.live.source;
    this.broadcaster = this.live.broadcaster;
    for (const event of LIVE_EVENTS) {
      this.live.on(event, (...args: unknown[]) => (this.emit as (e: string, ...a: unknown[]) => void)(event, ...args));
    }
    this.routes = new Routes({ live: this.live, cors: options.cors, auth: options.auth, token: options.token, logger });
    this.#http.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // CONNECT bypasses the request handler; without this listener Node would drop the socket
    // without any answer. No 'upgrade' listener, on purpose: with none, Node serves a request
    // that offers an upgrade (curl --http2 sends "Upgrade: h2c") as the plain request it also is.
    // A 405 names the methods there are (RFC 9110, 15.5.6).
    this.#http.on('connect', (_req: http.IncomingMessage, socket: Socket) => socket.end(plainResponse('405 Method Not Allowed', 'Allow: GET, HEAD, OPTIONS\r\n')));
    this.#http.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => answerPlainHttpOnTls(error, socket));
    this.#http.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      // Malformed or oversized requests get a plain 4xx and only their own socket is closed.
      // A socket already sending a response (a stream) is cut instead: a 4xx there would land
      // inside the multipart body.
      const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
      if (busy || !socket.writable || error.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(plainResponse(status));
    });
  }

  /** Where the server listens, once listen() has resolved. */
  get address(): ListenAddress | undefined {
    return this.#address;
  }

  listen(): Promise<ListenAddress> {
    if (this.#closing) return Promise.reject(new CamcastError('CLOSED', 'this server was closed; create a new one'));
    if (!this.#listening) {
      // A failure is not kept: once the port is free (or the address is up), listen() again on
      // this same server works. Until then a second call shares the attempt under way.
      const attempt = this.#listen();
      this.#listening = attempt;
      attempt.catch(() => {
        if (this.#listening === attempt) this.#listening = undefined;
      });
    }
    return this.#listening;
  }

  async #listen(): Promise<ListenAddress> {
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
      // A deep accept queue: libuv accepts one connection per loop turn, so a burst of viewers
      // arriving while frames go out to thousands must wait in the kernel, not be refused.
      this.#http.listen({ port: this.#port, host: this.#host, backlog: 4096 });
    });
    this.#http.on('error', (error) => this.emit('error', error));
    const info = this.#http.address() as AddressInfo;
    const host = info.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    this.#address = { host, port: info.port, url: `${this.#scheme}://${shown}:${info.port}/` };
    if (this.#closing) {
      // close() ran while the address was being looked up: do not leave a listening socket.
      await new Promise<void>((resolve) => this.#http.close(() => resolve()));
      throw new CamcastError('CLOSED', 'the server was closed while it was starting to listen');
    }
    // With idleTimeoutMs 0 the capture runs from now on, watched or not.
    if ((this.#options.idleTimeoutMs ?? 10_000) <= 0) this.broadcaster.startCapture();
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
    // A listen() under way settles first, so there is a socket to close (or none for certain).
    await this.#listening?.catch(() => {});
    const closed = new Promise<void>((resolve) => {
      if (!this.#http.listening) resolve();
      else this.#http.close(() => resolve());
    });
    this.#http.closeIdleConnections();
    await this.live.close();
    // Whatever did not end by itself (a half-sent request, a waiting snapshot) is cut now.
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

/** What listen() and the routes would otherwise trip over late, or take silently. */
function checkServerOptions(o: StreamServerOptions): void {
  checkOptionsObject('createServer', o, "{ source: 'test' }");
  if (o.source !== undefined) checkSourceOption(o.source);
  checkLiveStreamOptions(o);
  checkNumber('port', o.port, { integer: true, max: 65535 });
  if (o.host !== undefined) checkText('host', o.host, "'127.0.0.1' or '::'");
  // null, as undefined, leaves auth, CORS and the token off (plain JS configs often say null).
  if (o.auth != null) {
    if (typeof o.auth !== 'object') throw new CamcastError('BAD_OPTION', "auth must be { username, password }, e.g. { username: 'admin', password: 's3cret' }");
    checkText('auth.username', o.auth.username, "'admin'");
    checkText('auth.password', o.auth.password, "'s3cret'");
    if (o.auth.username.includes(':')) throw new CamcastError('BAD_OPTION', 'auth.username cannot contain ":" (HTTP Basic separates the user from the password with it)');
  }
  if (o.cors != null) corsOrigins(o.cors);
  if (o.token != null) checkToken(o.token);
  if (o.tls != null) checkTls(o.tls);
  checkDelay('headersTimeoutMs', o.headersTimeoutMs, 1);
  checkDelay('requestTimeoutMs', o.requestTimeoutMs, 1);
  if (o.headersTimeoutMs !== undefined && o.requestTimeoutMs !== undefined && o.headersTimeoutMs > o.requestTimeoutMs) {
    throw new CamcastError('BAD_OPTION', `headersTimeoutMs (${o.headersTimeoutMs}) cannot be longer than requestTimeoutMs (${o.requestTimeoutMs}): the headers are part of the request`);
  }
}

/**
 * Both halves of the PEM pair: without them Node builds an HTTPS server that fails every
 * handshake, with nothing said at startup.
 */
function checkTls(tls: unknown): void {
  const pair = tls as { cert?: unknown; key?: unknown } | null;
  const pem = (value: unknown) => (typeof value === 'string' || Buffer.isBuffer(value)) && value.length > 0;
  const bad = typeof pair === 'object' && pair !== null ? (['cert', 'key'] as const).filter((half) => !pem(pair[half])) : ['cert', 'key'];
  if (bad.length === 0) return;
  // Never the values themselves: a key does not belong in an error message or a log.
  throw new CamcastError(
    'BAD_OPTION',
    `tls must be { cert, key }, each PEM as a non-empty string or Buffer, e.g. { cert: readFileSync('cert.pem'), key: readFileSync('key.pem') } (${bad.join(' and ')} ${bad.length > 1 ? 'are' : 'is'} not)`,
  );
}

/**
 * A failed TLS handshake. When it was a plain-HTTP request (http:// typed for an https:// server,
 * OpenSSL says so), the client is told in plain HTTP, as nginx does, instead of an empty reply.
 * The TLS socket cannot write unencrypted; the TCP socket beneath it (Node's `_parent`) can.
 */
function answerPlainHttpOnTls(error: NodeJS.ErrnoException, socket: Socket): void {
  const tcp = (socket as Socket & { _parent?: unknown })._parent;
  if (error.code !== 'ERR_SSL_HTTP_REQUEST' || !(tcp instanceof Socket) || !tcp.writable) {
    socket.destroy();
    return;
  }
  const body = 'camcast: this port speaks HTTPS: use https:// instead of http://\n';
  const head = `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  // Half-closed, not destroyed: closing a socket with the rest of the request unread sends a
  // reset, which can make the client drop the answer. The client closes once it has read it;
  // a second later the socket goes anyway (with the server's other sockets, if it closes first).
  tcp.end(head + body);
  const timer = setTimeout(() => socket.destroy(), 1000).unref();
  tcp.once('close', () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

function plainResponse(status: string, headers = ''): string {
  return `HTTP/1.1 ${status}\r\n${headers}Connection: close\r\nContent-Length: 0\r\n\r\n`;
}

function createHttpsServer(
  serverOptions: http.ServerOptions,
  tls: { readonly cert: string | Buffer; readonly key: string | Buffer },
  handler: http.RequestListener,
): https.Server {
  try {
    return https.createServer({ ...serverOptions, cert: tls.cert, key: tls.key }, handler);
  } catch (error) {
    throw new CamcastError('BAD_OPTION', `the TLS certificate or key was rejected (${describeError(error)}); check that they are PEM files that belong together`, { cause: error });
  }
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): CamcastError {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new CamcastError('PORT_IN_USE', `port ${port} on ${host} is already in use: stop the program using it or pick another port`, { cause: error });
  }
  if (error.code === 'EACCES') {
    return new CamcastError('LISTEN_FAILED', `not allowed to listen on ${where}: use a port above 1023 or run with the needed privileges`, { cause: error });
  }
  if (error.code === 'ENOTFOUND') {
    return new CamcastError('LISTEN_FAILED', `cannot listen on ${where}: ${host} is not an address, and no name this machine can resolve: listen on one of its addresses, or on 0.0.0.0 for all`, { cause: error });
  }
  if (error.code === 'EAI_AGAIN') {
    return new CamcastError('LISTEN_FAILED', `cannot listen on ${where}: the name ${host} could not be resolved just now (DNS did not answer): give an address, or try again`, { cause: error });
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new CamcastError('LISTEN_FAILED', `cannot listen on ${where}: ${host} is not an address of this machine: listen on one of its addresses, or on 0.0.0.0 for all`, { cause: error });
  }
  return new CamcastError('LISTEN_FAILED', `cannot listen on ${where}: ${error.message}`, { cause: error });
}
