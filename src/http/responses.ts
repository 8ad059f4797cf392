import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.js';
import { CamcastError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { pathOf } from './request-path.js';

/** The one place that maps error codes to HTTP statuses. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_OPTION: 400,
  BAD_FRAME: 400,
  NO_FRAME: 503,
  SOURCE_NOT_FOUND: 503,
  SOURCE_START_FAILED: 503,
  SOURCE_FAILED: 503,
  SOURCE_ENDED: 503,
  SOURCE_STALLED: 503,
  CLOSED: 503,
};

/** Headers that stop browsers and proxies from caching or buffering live pictures. */
export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
  Pragma: 'no-cache',
  Expires: '0',
  // nginx buffers proxied responses by default, which would hold frames back.
  'X-Accel-Buffering': 'no',
});

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string | number> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    ...NO_CACHE_HEADERS,
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    ...NO_CACHE_HEADERS,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** For handlers that only read: 405 to anything but GET and HEAD. True when it answered. */
export function refusedMethod(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  sendText(res, 405, `camcast: ${req.method} is not allowed here; use GET`, { Allow: 'GET, HEAD' });
  return true;
}

/** A request that failed inside camcast: logged, and answered if nothing was sent yet. */
export function answerFailure(logger: Logger, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  logger.error(`${req.method} ${pathOf(req.url)}: ${describeError(error)}`);
  if (!res.headersSent) sendError(res, error);
  else res.destroy();
}

/** A failure as its HTTP status and a one-line body; a 503 says when to ask again (1 s unless told). */
export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string | number> = {}): void {
  const status = error instanceof CamcastError ? (STATUS_BY_CODE[error.code] ?? 500) : 500;
  sendText(res, status, `camcast: ${describeError(error)}`, status === 503 ? { 'Retry-After': 1, ...headers } : {});
}
