import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SourceState } from '../source-runner.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { AccessGuard, type AccessOptions } from './access.js';
import { corsOrigins } from './cors-origin.js';
import { pathOf } from './request-path.js';
import { NO_CACHE_HEADERS, sendJson, sendText } from './responses.js';

type Route = 'page' | 'stream' | 'snapshot' | 'status' | 'metrics' | 'health';

/**
 * Every URL camcast answers. Besides its own names it answers the URLs that people's tools
 * already use: the Flask recipe's /video_feed, mjpg-streamer's /?action=stream|snapshot
 * (OctoPrint, Mainsail, crowsnest), µStreamer's /stream, /snapshot and /state, and go2rtc's
 * /api/stream.mjpeg and /api/frame.jpeg. /metrics is where Prometheus looks by default.
 */
const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/', 'page'],
  ['/index.html', 'page'],
  ['/stream.mjpg', 'stream'],
  ['/stream.mjpeg', 'stream'],
  ['/video_feed', 'stream'],
  ['/stream', 'stream'],
  ['/api/stream.mjpeg', 'stream'],
  ['/snapshot.jpg', 'snapshot'],
  ['/snapshot.jpeg', 'snapshot'],
  ['/snapshot', 'snapshot'],
  ['/api/frame.jpeg', 'snapshot'],
  ['/api/status', 'status'],
  ['/state', 'status'],
  ['/api/health', 'health'],
  ['/metrics', 'metrics'],
]);

const ACTIONS: ReadonlyMap<string, Route> = new Map([
  ['stream', 'stream'],
  ['snapshot', 'snapshot'],
]);

const ALLOW = 'GET, HEAD, OPTIONS';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** What the routes serve: a capture's handlers and its state (a LiveStream is one). */
export interface RouteTargets {
  readonly mjpeg: Handler;
  readonly snapshot: Handler;
  readonly status: Handler;
  readonly metrics: Handler;
  readonly broadcaster: { readonly state: SourceState };
}

export interface RoutesOptions extends AccessOptions {
  /** The capture and its stream, snapshot and status handlers. */
  readonly live: RouteTargets;
  /** Origins allowed by CORS: one, a list, or '*' for any; undefined = no CORS headers. */
  readonly cors?: string | readonly string[];
  readonly logger?: Logger;
}

/** The server's URL map: the viewer page, the aliases, access control and CORS. */
export class Routes {
  readonly #live: RouteTargets;
  /** CORS headers for every answer. */
  readonly #corsHeaders: ReadonlyArray<readonly [string, string]>;
  /** With several origins: the ones allowed, and what else an allowed one is answered with. */
  readonly #corsAllowed: ReadonlySet<string> | undefined;
  readonly #corsAllowedHeaders: ReadonlyArray<readonly [string, string]>;
  readonly #logger: Logger;
  readonly #page: Buffer;
  readonly #guard: AccessGuard;

  constructor({ live, cors, logger = silentLogger, auth, token }: RoutesOptions) {
    this.#live = live;
    this.#guard = new AccessGuard({ auth, token });
    const origins = cors == null ? [] : corsOrigins(cors);
    const granted: Array<[string, string]> = [
      ['Access-Control-Expose-Headers', 'X-Timestamp, X-Frame-Seq, Content-Length'],
      // A page behind Basic auth fetches with credentials: 'include', which browsers allow
      // only with this header, and only for a named origin, never '*'.
      ...(auth && origins[0] !== '*' ? [['Access-Control-Allow-Credentials', 'true'] as [string, string]] : []),
    ];
    if (origins.length <= 1) {
      // None, '*' or one origin: the same headers for every request, as the browser compares.
      this.#corsHeaders = origins[0] === undefined ? [] : [['Access-Control-Allow-Origin', origins[0]], ...granted, ['Vary', 'Origin']];
      this.#corsAllowed = undefined;
      this.#corsAllowedHeaders = [];
    } else {
      // Several: a header can name one origin only, so an allowed request's own Origin is
      // echoed, and another gets none. Vary on every answer, so a cache never hands one
      // origin's answer to another.
      this.#corsHeaders = [['Vary', 'Origin']];
      this.#corsAllowed = new Set(origins);
      this.#corsAllowedHeaders = granted;
    }
    this.#logger = logger;
    this.#page = readFileSync(new URL('./viewer.html', import.meta.url));
  }

  /** The request listener for node:http. Never throws; every failure becomes a response. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      this.#route(req, res);
    } catch (error) {
      this.#logger.error(`${req.method} ${pathOf(req.url)}: ${describeError(error)}`);
      if (!res.headersSent) sendText(res, 500, 'camcast: internal error');
      else res.destroy();
    }
  };

  #route(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of this.#corsHeaders) res.setHeader(name, value);
    const origin = req.headers.origin;
    if (origin !== undefined && this.#corsAllowed?.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      for (const [name, value] of this.#corsAllowedHeaders) res.setHeader(name, value);
    }
    const url = requestUrl(req.url);
    if (!url) {
      sendText(res, 400, 'camcast: malformed request URL');
      return;
    }
    // A trailing slash (/api/status/, as some dashboards write URLs) names the same thing.
    let route = ROUTES.get(url.pathname) ?? (url.pathname.length > 1 ? ROUTES.get(url.pathname.replace(/\/+$/, '')) : undefined);
    // mjpg-streamer's URLs live on "/" and pick the action from the query.
    const action = url.searchParams.get('action');
    if (route === 'page' && action !== null) route = ACTIONS.get(action.replace(/_\d+$/, ''));
    // Checked before the 404 so a stranger learns nothing about paths. A CORS preflight never
    // carries credentials; health stays open for monitoring.
    if (req.method !== 'OPTIONS' && route !== 'health' && !this.#guard.allows(req, url)) {
      sendText(res, 401, `camcast: authentication required: ${this.#guard.howToAuthenticate}`, { 'WWW-Authenticate': this.#guard.challenge });
      return;
    }
    if (!route) {
      const notFound =
        action !== null && url.pathname === '/'
          ? `camcast: no such action '${action.slice(0, 100)}'; use /?action=stream or /?action=snapshot`
          : `camcast: no such path ${url.pathname.slice(0, 200)}; try /, /stream.mjpg, /snapshot.jpg or /api/status`;
      sendText(res, 404, notFound);
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        Allow: ALLOW,
        ...(res.hasHeader('Access-Control-Allow-Origin')
          ? { 'Access-Control-Allow-Methods': ALLOW, 'Access-Control-Allow-Headers': 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' }
          : {}),
      });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, `camcast: ${req.method} is not allowed here; use GET`, { Allow: ALLOW });
      return;
    }
    switch (route) {
      case 'page':
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': this.#page.length, ...NO_CACHE_HEADERS });
        res.end(req.method === 'HEAD' ? undefined : this.#page);
        return;
      case 'stream':
        this.#live.mjpeg(req, res);
        return;
      case 'snapshot':
        this.#live.snapshot(req, res);
        return;
      case 'status':
        this.#live.status(req, res);
        return;
      case 'metrics':
        this.#live.metrics(req, res);
        return;
      case 'health': {
        const state = this.#live.broadcaster.state;
        sendJson(res, { ok: state !== 'retrying', state }, state === 'retrying' ? 503 : 200);
        return;
      }
    }
  }
}

/**
 * The request's path and query. Parsed against a fixed origin rather than resolved as a
 * reference, so "//stream.mjpg" is a path and not a host named "stream.mjpg"; runs of slashes
 * are merged, as nginx does, so a proxy prefix joined with a slash too many still works.
 */
function requestUrl(raw: string | undefined): URL | undefined {
  const target = raw ?? '/';
  try {
    const url = target.startsWith('/') ? new URL(`http://camcast.invalid${target}`) : new URL(target, 'http://camcast.invalid');
    // Percent-escaped letters, digits and -._~ are the same path (RFC 3986, 6.2.2.2): /%73tream.mjpg.
    url.pathname = url.pathname.replace(/\/{2,}/g, '/').replace(/%(2[dD]|2[eE]|3\d|[46][1-9a-fA-F]|[57][0-9aA]|5[fF]|7[eE])/g, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
    return url;
  } catch {
    return undefined;
  }
}
