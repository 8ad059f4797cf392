import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeHandler } from '../live-stream.js';

/** The part of a FastifyRequest the adapter uses (so camcast needs no fastify types). */
export interface FastifyRequestLike {
  readonly raw: IncomingMessage;
}

/** The part of a FastifyReply the adapter uses. */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
  hijack(): unknown;
}

/**
 * Turns a node:http handler (cam.mjpeg, cam.snapshot, cam.status) into a Fastify route handler:
 * `app.get('/cam', forFastify(cam.mjpeg))`. The reply is hijacked, because a stream is written
 * part by part to the raw response and never ends by itself; so headers set with reply.header()
 * by hooks are not sent (set them on reply.raw instead).
 */
export function forFastify(handler: NodeHandler): (request: FastifyRequestLike, reply: FastifyReplyLike) => void {
  return (request, reply) => {
    reply.hijack();
    handler(request.raw, reply.raw);
  };
}
