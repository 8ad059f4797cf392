import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { CamcastError } from '../errors.js';
import { checkToken } from '../http/access.js';
import { corsOrigin, uniqueOrigins } from '../http/cors-origin.js';
import { compileTrustProxy } from '../http/trust-proxy.js';

export interface CliOptions {
  readonly help: boolean;
  readonly version: boolean;
  readonly source: string;
  readonly host: string;
  readonly port: number;
  readonly width: number | undefined;
  readonly height: number | undefined;
  readonly fps: number | undefined;
  readonly quality: number | undefined;
  readonly loop: boolean;
  readonly idleTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly insecure: boolean;
  readonly maxViewers: number;
  /** Normalised and without repeats; ['*'] for any origin. */
  readonly cors: readonly string[] | undefined;
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly token: string | undefined;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly trustProxy: readonly string[] | undefined;
  readonly logLevel: 'quiet' | 'info' | 'debug';
}

export const USAGE = `Usage: camcast [options]

Streams a camera, a video file, an IP camera or a test pattern as MJPEG over HTTP.

Source
  --source SPEC        auto (default: /dev/video0 if present, else the test pattern),
                       test, a camera (/dev/video0 or its index 0), picam (a
                       Raspberry Pi camera module; picam:1 for the second), a
                       video file, or a URL (rtsp://, rtsps://, http://, https://)
  --size WxH           picture size wherever camcast encodes (e.g. 1280x720)
  --fps N              frames per second, 1-120 (test pattern default 30)
  --quality N          JPEG quality, 1-100 (default 80)
  --no-loop            play a file once, then end the stream (a new viewer
                       plays it again); --loop, the default, loops it
  --idle-timeout S     stop capturing S seconds after the last viewer leaves;
                       0 keeps capturing (default 10)
  --stall-timeout S    restart a source that sends no frame for S seconds;
                       0 disables (default 5)
  --start-timeout S    give a camera, file or URL S seconds for its first
                       frame before retrying (default 10; raise it for an
                       IP camera with a long keyframe interval)
  --insecure           accept any TLS certificate from an https:// source
                       (an IP camera's self-signed one)

Server
  --host ADDR          address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port N             TCP port (default 8080)
  --max-viewers N      refuse viewers beyond N with 503 (default 0 = no limit)
  --cors ORIGIN,...    allow cross-origin reads from these origins, or * for
                       any (--cors may be given more than once)
  --auth USER:PASS     require HTTP Basic authentication (all but /api/health)
  --token TOKEN        require ?token=TOKEN or "Authorization: Bearer TOKEN"
                       (8-256 characters of A-Z a-z 0-9 . _ ~ -)
  --tls-cert FILE      serve HTTPS with this PEM certificate (needs --tls-key)
  --tls-key FILE       the PEM private key for --tls-cert
  --trust-proxy LIST   take viewers' addresses from X-Forwarded-For when it comes
                       from these proxies: addresses, CIDR subnets or loopback,
                       linklocal, uniquelocal, comma-separated (default: none;
                       --trust-proxy may be given more than once)

Other
  -q, --quiet          print warnings and errors only
  -v, --verbose        print debug messages
  -h, --help           show this help
  --version            print the version

Environment
  FFMPEG_PATH          the ffmpeg binary to use (else PATH, else @ffmpeg-installer/ffmpeg)

URLs: /  /stream.mjpg  /snapshot.jpg  /api/status  /api/health  /metrics
      (and /video_feed, /?action=stream, /stream, ...)`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  source: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  size: { type: 'string' },
  fps: { type: 'string' },
  quality: { type: 'string' },
  loop: { type: 'boolean' },
  'no-loop': { type: 'boolean' },
  'idle-timeout': { type: 'string' },
  'stall-timeout': { type: 'string' },
  'start-timeout': { type: 'string' },
  insecure: { type: 'boolean' },
  'max-viewers': { type: 'string' },
  cors: { type: 'string', multiple: true },
  auth: { type: 'string' },
  token: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'trust-proxy': { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

/** Pure: argv (without node and script) to options, with every value range-checked. */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: attachDashValues(argv), strict: true, allowPositionals: false, options: OPTIONS }));
  } catch (error) {
    throw new CamcastError('BAD_OPTION', `${firstLine(error)}; see camcast --help`);
  }
  // Help is what was asked for, even beside a mistake in another flag.
  if (values.help) return { ...parseCliArgs([]), help: true };
  if (values.quiet && values.verbose) throw new CamcastError('BAD_OPTION', '-q (warnings and errors only) and -v (debug messages) contradict each other; give one of them');
  if (values.loop && values['no-loop']) throw new CamcastError('BAD_OPTION', '--loop and --no-loop contradict each other; give one of them');
  const size = values.size === undefined ? undefined : parseSize(values.size);
  return {
    help: values.help ?? false,
    version: values.version ?? false,
    source: values.source ?? 'auto',
    host: parseHost(values.host ?? '127.0.0.1'),
    port: parseNumber('--port', values.port, 8080, 0, 65535),
    width: size?.width,
    height: size?.height,
    fps: values.fps === undefined ? undefined : parseNumber('--fps', values.fps, 30, 1, 120, false),
    quality: values.quality === undefined ? undefined : parseNumber('--quality', values.quality, 80, 1, 100),
    loop: !(values['no-loop'] ?? false),
    idleTimeoutMs: parseNumber('--idle-timeout', values['idle-timeout'], 10, 0, 86_400, false) * 1000,
    stallTimeoutMs: parseNumber('--stall-timeout', values['stall-timeout'], 5, 0, 3600, false) * 1000,
    startTimeoutMs: parseNumber('--start-timeout', values['start-timeout'], 10, 1, 3600, false) * 1000,
    insecure: values.insecure ?? false,
    maxViewers: parseNumber('--max-viewers', values['max-viewers'], 0, 0, 1_000_000),
    cors: values.cors === undefined ? undefined : parseCors(values.cors),
    auth: values.auth === undefined ? undefined : parseAuth(values.auth),
    token: values.token === undefined ? undefined : checkToken(values.token, '--token'),
    ...parseTls(values['tls-cert'], values['tls-key']),
    trustProxy: values['trust-proxy'] === undefined ? undefined : parseTrustProxy(values['trust-proxy']),
    logLevel: values.verbose ? 'debug' : values.quiet ? 'quiet' : 'info',
  };
}

function parseNumber(flag: string, raw: string | undefined, fallback: number, min: number, max: number, integer = true): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  // Decimal only: Number() also reads 0x50 and 1e3, which nobody means by a port or a rate.
  const ok = /^\s*\d+(\.\d+)?\s*$/.test(raw) && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) {
    const what = integer ? 'a whole number' : 'a number';
    throw new CamcastError('BAD_OPTION', `${flag} must be ${what} from ${min} to ${max} (got '${raw}'); see camcast --help`);
  }
  return value;
}

function parseSize(raw: string): { width: number; height: number } {
  const match = /^(\d{1,5})[x×X](\d{1,5})$/.exec(raw.trim());
  const width = Number(match?.[1]);
  const height = Number(match?.[2]);
  if (!match || width < 16 || height < 16 || width > 8192 || height > 8192) {
    throw new CamcastError('BAD_OPTION', `--size must be WIDTHxHEIGHT between 16x16 and 8192x8192, e.g. 1280x720 (got '${raw}')`);
  }
  return { width, height };
}

function parseHost(raw: string): string {
  const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
  // Digits and dots only is meant as an IPv4 address, never a name: say so rather than look it up.
  if (host === '' || /[\s/]/.test(host) || (/^[\d.]+$/.test(host) && !isIPv4(host))) {
    throw new CamcastError('BAD_OPTION', `--host must be an address such as 127.0.0.1, 0.0.0.0 or ::1 (got '${raw}')`);
  }
  return host;
}

function parseAuth(raw: string): { username: string; password: string } {
  const colon = raw.indexOf(':');
  if (colon <= 0 || colon === raw.length - 1) {
    throw new CamcastError('BAD_OPTION', '--auth must be USER:PASSWORD with both parts non-empty, e.g. --auth admin:s3cret');
  }
  return { username: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

/** Every --cors, each a comma-separated list: --cors https://a.example,http://b.local --cors https://c.example */
function parseCors(raw: readonly string[]): readonly string[] {
  const given = raw.join(',');
  if (given.split(',').some((origin) => origin.trim() === '')) {
    throw new CamcastError('BAD_OPTION', `--cors has an empty entry (got '${given}'): give * or origins separated by single commas`);
  }
  return uniqueOrigins(
    raw.flatMap((list) => list.split(',')).map((origin) => corsOrigin(origin, '--cors')),
    '--cors',
  );
}

function parseTls(cert: string | undefined, key: string | undefined): { tlsCert: string | undefined; tlsKey: string | undefined } {
  if ((cert === undefined) !== (key === undefined)) {
    throw new CamcastError('BAD_OPTION', 'HTTPS needs both --tls-cert FILE and --tls-key FILE');
  }
  // What --tls-cert "$CERT" gives when the variable is unset: HTTPS was asked for, so never
  // fall back to plain HTTP.
  for (const [flag, value] of [['--tls-cert', cert], ['--tls-key', key]] as const) {
    if (value !== undefined && value.trim() === '') throw new CamcastError('BAD_OPTION', `${flag} is empty: give the path of a PEM file (is the variable that should hold it unset?)`);
  }
  return { tlsCert: cert, tlsKey: key };
}

/** Checked as the library checks `trustProxy`, so a bad entry stops camcast at once, named. */
function parseTrustProxy(raw: readonly string[]): string[] {
  compileTrustProxy(raw, '--trust-proxy');
  return raw.flatMap((list) => list.split(',')).map((entry) => entry.trim());
}

/**
 * parseArgs refuses "--port -1" or "--token -abc" as ambiguous (the value might be a forgotten
 * argument followed by another flag). A value that is not one of our flags is joined to its
 * flag ("--port=-1"), so it reaches the range checks and their clear message; a real flag
 * after a flag that needs a value is left for parseArgs to report.
 */
function attachDashValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== undefined && OPTIONS[name as keyof typeof OPTIONS]?.type === 'string' && next?.startsWith('-') && !isFlag(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function isFlag(arg: string): boolean {
  if (arg === '--') return true;
  if (arg.startsWith('--')) return Object.hasOwn(OPTIONS, arg.slice(2).split('=')[0]!);
  const shorts = new Set(Object.values(OPTIONS).flatMap((o) => ('short' in o ? [o.short] : [])));
  return arg.length > 1 && [...arg.slice(1)].every((c) => shorts.has(c as 'h'));
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const ambiguous = /^Option '(--[\w-]+)(?: <value>)?' argument is ambiguous/.exec(message);
  if (ambiguous) return `${ambiguous[1]} needs a value (to give one that starts with a dash, write ${ambiguous[1]}=-VALUE)`;
  // The same mistake at the end of the line: parseArgs words it its own way.
  const missing = /^Option '(--[\w-]+)(?: <value>)?' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  return message.split('\n')[0]!.replace(/\.$/, '');
}
