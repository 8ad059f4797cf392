import http from 'node:http';
import { Notifier } from './notifier.js';
import { StrictMultipartParser, type StrictPart } from './strict-multipart.js';

export interface ReceivedPart extends StrictPart {
  /** performance.now() when the last byte of the part arrived. */
  readonly receivedAt: number;
  readonly timestamp: number;
  readonly seq: number;
}

export interface MjpegClient {
  readonly response: Promise<http.IncomingMessage>;
  readonly parts: ReceivedPart[];
  /** Resolves once `count` parts have arrived; rejects on a framing error, an early end or the timeout. */
  waitForParts(count: number, timeoutMs?: number): Promise<ReceivedPart[]>;
  readonly closed: Promise<void>;
  /** True once the body's close delimiter arrived: the server ended the stream properly. */
  sawCloseDelimiter(): boolean;
  pause(): void;
  resume(): void;
  destroy(): void;
}

/** Opens a stream URL and parses it strictly, keeping every part it receives (tests read few). */
export function openMjpeg(url: string, { keepBodies = true, headers = {} }: { keepBodies?: boolean; headers?: Record<string, string> } = {}): MjpegClient {
  const parts: ReceivedPart[] = [];
  let failure: Error | undefined;
  let ended = false;
  const changes = new Notifier();
  const wake = () => changes.notify();
  let res: http.IncomingMessage | undefined;
  let parser: StrictMultipartParser | undefined;
  const req = http.get(url, { agent: false, headers });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', (r) => {
      res = r;
      resolve(r);
      const boundary = /boundary=([^;\s]+)/.exec(r.headers['content-type'] ?? '')?.[1];
      if (r.statusCode !== 200 || !boundary) {
        failure = new Error(`status ${r.statusCode}, content-type ${r.headers['content-type']}`);
        r.resume();
        wake();
        return;
      }
      const strict = new StrictMultipartParser(boundary);
      parser = strict;
      r.on('data', (chunk: Buffer) => {
        if (failure) return;
        try {
          const now = performance.now();
          for (const part of strict.push(chunk)) {
            parts.push({
              headers: part.headers,
              body: keepBodies ? part.body : Buffer.alloc(0),
              receivedAt: now,
              timestamp: Number(part.headers['x-timestamp']) * 1000,
              seq: Number(part.headers['x-frame-seq']),
            });
          }
        } catch (error) {
          failure = error as Error;
        }
        wake();
      });
      r.once('end', () => {
        ended = true;
        wake();
      });
      r.once('error', () => {
        ended = true;
        wake();
      });
    });
    req.once('error', (error) => {
      failure = error;
      reject(error);
      wake();
    });
  });
  response.catch(() => {});
  const closed = new Promise<void>((resolve) => req.once('close', () => resolve()));
  return {
    response,
    parts,
    closed,
    waitForParts(count, timeoutMs = 10_000) {
      return changes.until(
        () => {
          if (failure) throw failure;
          if (parts.length >= count) return parts.slice(0, count);
          if (ended) throw new Error(`stream ended after ${parts.length} of ${count} parts`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`only ${parts.length} of ${count} parts within ${timeoutMs} ms`),
      );
    },
    sawCloseDelimiter: () => !failure && (parser?.closed ?? false),
    pause: () => res?.pause(),
    resume: () => res?.resume(),
    destroy: () => req.destroy(),
  };
}

/** GET a URL fully; the body as a Buffer. */
export function fetchBuffer(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.end();
  });
}
