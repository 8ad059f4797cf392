import { existsSync } from 'node:fs';
import { CamcastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkText, describeValue } from '../option-checks.js';
import { camera } from './camera.js';
import { validateEncodeOptions, type EncodeOptions } from './encode-options.js';
import { file } from './file.js';
import { piCamera, piCameraNode } from './pi-camera.js';
import { testPattern } from './test-pattern.js';
import type { Source } from './source.js';
import { checkOptionsObject } from '../option-checks.js';
import { checkSharedOptions } from './source-options.js';
import { url } from './url.js';
import { unsupportedScheme } from './url-scheme.js';

export interface OpenSourceOptions extends EncodeOptions {
  /** Play a file source in a loop (default) or once. */
  readonly loop?: boolean;
  readonly ffmpegPath?: string;
  /** How long a camera, file or URL may take to deliver its first frame (default 10 s). */
  readonly startTimeoutMs?: number;
  /** A URL over https: accept any certificate (a camera's self-signed one). */
  readonly insecure?: boolean;
  readonly logger?: Logger;
  /** Where `auto` looks for a camera (tests point it elsewhere). */
  readonly defaultCamera?: string;
  /** Where `auto` reads what kind of camera that is (tests point it elsewhere). */
  readonly sysDir?: string;
}

export interface OpenedSource {
  readonly source: Source;
  /** Why this source was chosen, for the startup line ("no camera at /dev/video0"). */
  readonly reason: string;
}

type Factory = (spec: string, options: OpenSourceOptions) => OpenedSource;

/**
 * One row per kind of source, tried in order: the first whose test matches the spec opens it.
 * Adding a kind is one file and one row here.
 */
const KINDS: ReadonlyArray<{ readonly test: (spec: string) => boolean; readonly open: Factory }> = [
  {
    test: (spec) => spec === 'auto',
    open: (_spec, options) => {
      const device = options.defaultCamera ?? '/dev/video0';
      const piNode = existsSync(device) ? piCameraNode(device, { sysDir: options.sysDir }) : undefined;
      if (piNode) return { source: piCamera(options), reason: `a Pi camera module found (${device} is ${piNode})` };
      if (existsSync(device)) return { source: camera({ ...options, device }), reason: `camera found at ${device}` };
      return { source: testPattern(options), reason: `no camera at ${device}` };
    },
  },
  {
    test: (spec) => spec === 'test' || spec === 'testsrc' || spec === 'pattern',
    open: (_spec, options) => ({ source: testPattern(options), reason: 'chosen with --source' }),
  },
  {
    test: (spec) => /^picam(:\d+)?$/i.test(spec),
    open: (spec, options) => ({ source: piCamera({ ...options, camera: Number(spec.split(':')[1] ?? 0) }), reason: 'chosen with --source' }),
  },
  {
    test: (spec) => /^\d+$/.test(spec) || /^\/dev\/video\d+$/.test(spec),
    open: (spec, options) => {
      const device = /^\d+$/.test(spec) ? `/dev/video${spec}` : spec;
      return { source: camera({ ...options, device }), reason: 'chosen with --source' };
    },
  },
  {
    test: (spec) => /^(rtsps?|https?):\/\//i.test(spec),
    open: (spec, options) => ({ source: url({ ...options, url: spec }), reason: 'chosen with --source' }),
  },
  {
    test: (spec) => /^[a-z][a-z0-9+.-]*:\/\//i.test(spec),
    open: (spec) => {
      throw unsupportedScheme(spec, '--source ');
    },
  },
  {
    test: (spec) => spec.startsWith('/dev/'),
    open: (spec, options) => ({ source: camera({ ...options, device: spec }), reason: 'chosen with --source' }),
  },
  {
    test: () => true,
    open: (spec, options) => ({ source: file({ ...options, path: spec }), reason: 'chosen with --source' }),
  },
];

/** Turns a --source value (auto, test, 0, /dev/video0, picam, a URL or a file path) into a Source. */
export function openSource(spec: string, options: OpenSourceOptions = {}): OpenedSource {
  if (typeof spec !== 'string') {
    throw new CamcastError('BAD_OPTION', `the source spec must be a string: auto, test, a camera, a file or a URL (got ${String(spec)})`);
  }
  checkOptionsObject('openSource', options, "'auto', { width: 640, height: 480 }");
  checkOpenSourceOptions(options);
  const trimmed = spec.trim();
  if (trimmed === '') throw new CamcastError('BAD_OPTION', '--source is empty: use auto, test, a camera, a file or a URL');
  const kind = KINDS.find((k) => k.test(trimmed))!;
  return kind.open(trimmed, options);
}

/**
 * Every field of OpenSourceOptions, whichever kind of source the spec turns out to be (or none,
 * when stream() or createServer() is given a Source): a `startTimeoutMs: -1` or `loop: 'false'`
 * must fail where it is written, not lie there until the source changes to one that reads it.
 */
export function checkOpenSourceOptions(options: OpenSourceOptions): void {
  checkSharedOptions(options);
  validateEncodeOptions(options);
  if (options.insecure !== undefined && typeof options.insecure !== 'boolean') {
    throw new CamcastError('BAD_OPTION', `insecure must be true or false (got ${describeValue(options.insecure)})`);
  }
  if (options.defaultCamera !== undefined) checkText('defaultCamera', options.defaultCamera, "'/dev/video0'");
  if (options.sysDir !== undefined) checkText('sysDir', options.sysDir, "'/sys/class/video4linux'");
}
