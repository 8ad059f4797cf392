/**
 * camcast's public API. Everything a program needs to stream frames to browsers and MJPEG
 * clients. Nothing here reads argv, and the only environment variables read are FFMPEG_PATH
 * and PATH (which ffmpeg the camera, file and URL sources run, unless given an ffmpegPath) and
 * CAMCAST_JPEG_ENCODER=sharp (which JPEG encoder to use, read once at import).
 */
export { createServer, StreamServer } from './stream-server.js';
export type { StreamServerOptions, StreamServerEvents, ListenAddress } from './stream-server.js';

export { stream, LiveStream, mjpeg, snapshot, status, metrics } from './live-stream.js';
export type { LiveStreamOptions, LiveStreamEvents, NodeHandler } from './live-stream.js';
export { mergedMetrics } from './merged-metrics.js';
export { forFastify } from './adapters/fastify.js';
export type { FastifyRequestLike, FastifyReplyLike } from './adapters/fastify.js';

export { Broadcaster } from './broadcaster.js';
export type { BroadcasterOptions, BroadcasterEvents, BroadcasterStatus, Subscriber } from './broadcaster.js';
export type { SourceState } from './source-runner.js';

export { testPattern } from './sources/test-pattern.js';
export type { TestPatternOptions } from './sources/test-pattern.js';
export { push } from './sources/push.js';
export type { PushOptions, PushSource, PushedFrame } from './sources/push.js';
export { camera } from './sources/camera.js';
export type { CameraOptions } from './sources/camera.js';
export { piCamera } from './sources/pi-camera.js';
export type { PiCameraOptions } from './sources/pi-camera.js';
export { file } from './sources/file.js';
export type { FileOptions } from './sources/file.js';
export { url } from './sources/url.js';
export type { UrlOptions } from './sources/url.js';
export { openSource } from './sources/index.js';
export type { OpenSourceOptions, OpenedSource } from './sources/index.js';
export { resolveFfmpeg } from './sources/ffmpeg-path.js';
export type { Source, SourceKind, FrameSink } from './sources/source.js';
export type { EncodeOptions } from './sources/encode-options.js';
export type { RawImage } from './raster/encode-jpeg.js';

export type { Frame, FrameInput } from './frame.js';
export { CamcastError, ErrorCodes, isCamcastError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Logger } from './logger.js';
export type { Status } from './http/status.js';
export type { ViewerInfo } from './http/mjpeg-viewer.js';
