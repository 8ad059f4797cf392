import type { Broadcaster } from '../broadcaster.js';
import type { ViewerInfo } from './mjpeg-viewer.js';

export interface StatusInput {
  readonly broadcaster: Broadcaster;
  readonly viewers: readonly ViewerInfo[];
  readonly startedAt: number;
  readonly version: string;
}

/** The body of GET /api/status: what a person or a dashboard needs to see the stream's health. */
export function buildStatus({ broadcaster, viewers, startedAt, version }: StatusInput) {
  const s = broadcaster.status();
  const now = Date.now();
  return {
    version,
    uptime: Math.round((now - startedAt) / 1000),
    source: {
      kind: s.kind,
      description: s.description,
      state: s.state,
      since: new Date(s.since).toISOString(),
      lastError: s.lastError ?? null,
      restarts: s.restarts,
    },
    resolution: s.width && s.height ? { width: s.width, height: s.height } : null,
    fps: s.fps,
    frames: s.frames,
    lastFrameAt: s.lastFrameAt ? new Date(s.lastFrameAt).toISOString() : null,
    viewers: {
      count: viewers.length,
      list: viewers.map((v) => ({
        id: v.id,
        client: v.client ?? null,
        remoteAddress: v.remoteAddress ?? null,
        connectedAt: new Date(v.connectedAt).toISOString(),
        fps: v.fps,
        framesSent: v.framesSent,
        framesDropped: v.framesDropped,
        pendingBytes: v.pendingBytes,
        bytesSent: v.bytesSent,
        framePending: v.framePending,
      })),
    },
  };
}

export type Status = ReturnType<typeof buildStatus>;
