/**
 * The only file that knows ffmpeg flags. Pure: options in, argv out (never a shell string, so a
 * path or URL with spaces or quotes is one argument and nothing is interpreted). The argv excludes
 * the program itself. Tests pin the exact output per source kind.
 */
import { DEFAULT_QUALITY, type EncodeOptions } from './encode-options.js';
import { unsupportedScheme } from './url-scheme.js';

const GLOBAL: readonly string[] = [
  '-hide_banner',
  '-loglevel', 'error', // stderr then holds only the reason it failed, which we keep and show
  '-nostdin', // never read the terminal: ffmpeg would otherwise steal keystrokes and stop on 'q'
];

const OUTPUT: readonly string[] = ['-f', 'mjpeg', 'pipe:1'];

/** Only the first video stream: audio and subtitles are never decoded, and no video is an error. */
const FIRST_VIDEO: readonly string[] = ['-map', '0:v:0'];

export interface CameraArgsOptions extends EncodeOptions {
  /** A V4L2 device path such as /dev/video0. */
  readonly device: string;
  /** The camera offers MJPEG: ask for it and copy its JPEGs through without re-encoding. */
  readonly passthrough: boolean;
  /**
   * Without passthrough: still ask for the camera's MJPEG (and decode it) rather than its raw
   * format, which USB 2 cameras deliver at far lower rates at any size above 640x480.
   */
  readonly mjpegInput?: boolean;
}

export interface FileArgsOptions extends EncodeOptions {
  readonly path: string;
  /** Play again from the start at the end (default) or once. */
  readonly loop?: boolean;
}

export interface UrlArgsOptions extends EncodeOptions {
  /** rtsp, rtsps, http or https. */
  readonly url: string;
  /** How long a network read may block before ffmpeg gives up (http and https only). */
  readonly ioTimeoutMs?: number;
}

export { validateEncodeOptions } from './encode-options.js';


/**
 * JPEG quality 1..100 (higher is better) -> the mjpeg encoder's qscale 31..2 (lower is better),
 * linear and monotonic. qscale 1 is left out: it bloats frames for no visible gain.
 */
export function qualityToQscale(quality: number): number {
  const clamped = Math.min(100, Math.max(1, quality));
  return Math.round(31 - ((clamped - 1) * 29) / 99);
}

/** Filters and encoder settings that turn decoded video into the JPEGs viewers asked for. */
export function encodeArgs({ width, height, fps, quality = DEFAULT_QUALITY }: EncodeOptions): string[] {
  const filters: string[] = [];
  // fps before scale, so frames that will be dropped are never scaled.
  if (fps !== undefined) filters.push(`fps=${fps}`);
  // -2 keeps the aspect ratio and rounds to an even size, which 4:2:0 chroma needs.
  if (width !== undefined || height !== undefined) filters.push(`scale=${width ?? -2}:${height ?? -2}`);
  return [
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    '-pix_fmt', 'yuvj420p', // full-range 4:2:0: what browsers and every MJPEG client decode
    '-q:v', String(qualityToQscale(quality)),
  ];
}

/** A V4L2 camera; with passthrough its own MJPEG is copied, else it is decoded and encoded. */
export function cameraArgs({ device, passthrough, mjpegInput = false, width, height, fps, quality }: CameraArgsOptions): string[] {
  // Size is asked of the camera in both modes (the driver picks the nearest it has; scaling then
  // fixes the rest). The rate is asked only for passthrough: it cannot be filtered without
  // re-encoding, while the fps filter is exact and never fails on a rate the driver refuses.
  const sizeHint = width !== undefined && height !== undefined ? ['-video_size', `${width}x${height}`] : [];
  if (passthrough) {
    return [
      ...GLOBAL,
      '-f', 'v4l2',
      '-input_format', 'mjpeg',
      ...sizeHint,
      ...(fps !== undefined ? ['-framerate', String(fps)] : []),
      '-i', device,
      ...FIRST_VIDEO,
      '-c:v', 'copy',
      // Many UVC cameras send MJPEG without Huffman tables (the AVI1 convention implies the
      // standard ones); decoders that do not assume them show nothing. This prepends the standard
      // tables to each frame (about 420 bytes), still without re-encoding.
      '-bsf:v', 'mjpeg2jpeg',
      ...OUTPUT,
    ];
  }
  const input = mjpegInput ? ['-input_format', 'mjpeg'] : [];
  return [...GLOBAL, '-f', 'v4l2', ...input, ...sizeHint, '-i', device, ...FIRST_VIDEO, ...encodeArgs({ width, height, fps, quality }), ...OUTPUT];
}

/** A video file played at its real rate, looping by default. */
export function fileArgs({ path, loop = true, ...encode }: FileArgsOptions): string[] {
  return [
    ...GLOBAL,
    '-re', // read at the file's own rate, as a camera would deliver, instead of as fast as possible
    ...(loop ? ['-stream_loop', '-1'] : []),
    // "file:" so a name like "rtsp:x" or "concat:a|b" is read as a file, never as a protocol.
    '-i', `file:${path}`,
    ...FIRST_VIDEO,
    ...encodeArgs(encode),
    ...OUTPUT,
  ];
}

/** A picture's frames per second where none is asked: it never changes, so few are enough. */
export const STILL_IMAGE_FPS = 1;

/**
 * A still image (a JPEG, PNG or BMP) shown as a stream. -stream_loop does not repeat a
 * one-frame input (ffmpeg reads it once and exits), so the image2 demuxer loops it at a rate
 * of its own; with loop off it is one frame, then the end.
 */
export function stillImageArgs({ path, loop = true, fps = STILL_IMAGE_FPS, ...encode }: FileArgsOptions): string[] {
  return [
    ...GLOBAL,
    '-re',
    ...(loop ? ['-loop', '1'] : []),
    '-framerate', String(fps),
    // image2 whatever the file's name; "none": a "%" in the name is not a frame-number pattern.
    '-f', 'image2', '-pattern_type', 'none',
    '-i', `file:${path}`,
    ...FIRST_VIDEO,
    ...encodeArgs({ ...encode, fps }),
    ...OUTPUT,
  ];
}

/**
 * Decodes the first video frame of a file and nothing more, to learn before streaming whether it
 * plays at all (file().check()).
 */
export function probeFileArgs(path: string): string[] {
  return [
    ...GLOBAL,
    '-i', `file:${path}`,
    ...FIRST_VIDEO,
    '-frames:v', '1',
    // One stdout line per decoded frame: exit code 0 alone does not prove that a frame came out.
    '-f', 'framecrc', '-',
  ];
}

/** A network stream: RTSP over TCP, or anything ffmpeg reads over HTTP. */
export function urlArgs({ url, ioTimeoutMs = 10_000, ...encode }: UrlArgsOptions): string[] {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  let input: string[];
  if (scheme === 'rtsp' || scheme === 'rtsps') {
    // TCP interleaved: UDP loses packets behind NAT and on Wi-Fi, which shows as smeared frames.
    // No socket timeout flag: ffmpeg 5 renamed -stimeout to -timeout, which before meant "listen
    // for a connection" (and would break older builds such as @ffmpeg-installer's 4.1), so a stall
    // is caught by the frame watchdog in FfmpegProcess instead.
    input = ['-rtsp_transport', 'tcp', '-i', url];
  } else if (scheme === 'http' || scheme === 'https') {
    // Microseconds; a read that blocks longer fails instead of hanging on a dead server.
    input = ['-rw_timeout', String(Math.round(ioTimeoutMs * 1000)), '-i', url];
  } else {
    throw unsupportedScheme(url);
  }
  return [...GLOBAL, ...input, ...FIRST_VIDEO, ...encodeArgs(encode), ...OUTPUT];
}

/** Lists what a V4L2 device offers; ffmpeg prints the list to stderr and exits with code 1. */
export function listFormatsArgs(device: string): string[] {
  // loglevel info, unlike everywhere else: the list is printed at that level.
  return ['-hide_banner', '-loglevel', 'info', '-nostdin', '-f', 'v4l2', '-list_formats', 'all', '-i', device];
}

export interface V4l2Format {
  readonly kind: 'compressed' | 'raw';
  /** ffmpeg's name: "mjpeg", "yuyv422", "h264"... */
  readonly name: string;
  readonly description: string;
  /** Converted by libv4l2 in software rather than offered by the camera. */
  readonly emulated: boolean;
  /** "640x480", or a stepwise range such as "{32-4096, 2}x{32-2160, 2}". */
  readonly sizes: readonly string[];
}

/**
 * Parses the stderr of listFormatsArgs(). Lines look like
 * `[video4linux2,v4l2 @ 0x55d] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720`
 * and the description may itself hold colons ("YUYV 4:2:2"), so fields split on " : " only.
 */
export function parseV4l2Formats(stderr: string): { formats: V4l2Format[]; mjpeg: boolean } {
  const formats: V4l2Format[] = [];
  for (const line of stderr.split(/\r?\n/)) {
    const match = /(Compressed|Raw)\s*:\s*(\S+)\s+:\s+(.*?)\s+:(.*)$/.exec(line);
    if (!match) continue;
    let rest = match[4]!.trim();
    const emulated = /^Emulated\s*:/.test(rest);
    if (emulated) rest = rest.replace(/^Emulated\s*:\s*/, '');
    formats.push({
      kind: match[1] === 'Compressed' ? 'compressed' : 'raw',
      name: match[2]!,
      description: match[3]!.trim(),
      emulated,
      sizes: rest.match(/\{[^}]*\}x\{[^}]*\}|\d+x\d+/g) ?? [],
    });
  }
  // An emulated MJPEG would be libv4l2 encoding in software: no better than encoding ourselves.
  return { formats, mjpeg: formats.some((f) => f.kind === 'compressed' && f.name === 'mjpeg' && !f.emulated) };
}
