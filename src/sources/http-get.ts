import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { NoAnswerError } from './network-hint.js';

export interface HttpGetOptions {
  /** The answer's headers must come within this, or the request fails with NoAnswerError. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** https: accept any certificate (a camera's self-signed one). */
  readonly insecure?: boolean | undefined;
}

export interface Opened {
  readonly request: ClientRequest;
  readonly response: IncomingMessage;
}

/** One GET on its own socket (no keep-alive pool to outlive the source); resolves on the headers. */
export function openHttp(target: URL, { timeoutMs, signal, insecure = false }: HttpGetOptions): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'multipart/x-mixed-replace, image/jpeg;q=0.9, */*;q=0.5' };
    const request =
      target.protocol === 'https:'
        ? httpsRequest(target, { agent: false, signal, headers, rejectUnauthorized: !insecure })
        : httpRequest(target, { agent: false, signal, headers });
    const timer = setTimeout(() => request.destroy(new NoAnswerError(timeoutMs)), timeoutMs);
    request.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    request.once('response', (response) => {
      clearTimeout(timer);
      request.on('error', () => {}); // later socket errors are the relay's business, or nobody's
      resolve({ request, response });
    });
    request.end();
  });
}
