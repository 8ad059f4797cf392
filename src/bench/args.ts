import { parseArgs } from 'node:util';

/** Pure: the bench's argv -> options, with the usage text. */
export type Scenario = 'fanout' | 'stalled' | 'encode';
export type ServerChoice = 'camcast' | 'reference';

/**
 * What the bench's servers send by default: one fixed JPEG pushed at the bench's rate, so every
 * frame costs the same and fan-out alone is measured (src/bench/bench-source.ts has the others).
 */
export const PUSH = 'push';

/** The picture the issue's targets are set for, and the bench's default. */
export const ISSUE_PICTURE = { source: PUSH, width: 1280, height: 720, fps: 30 } as const;

export interface BenchOptions {
  readonly help: boolean;
  readonly quick: boolean;
  readonly scenarios: readonly Scenario[];
  readonly servers: readonly ServerChoice[];
  readonly viewers: readonly number[];
  readonly seconds: number;
  readonly fps: number;
  /** `push` (one fixed JPEG) or a camcast source spec: test, a camera, a file, a URL. */
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly stalledSeconds: number;
  readonly encodeSeconds: number;
  /** Runs of each fan-out point at or above SATURATED_VIEWERS, servers alternating; the median run is reported. */
  readonly repeat: number;
  readonly write: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --scenario LIST   fanout,stalled,encode or all (default all)
  --viewers LIST    fan-out viewer counts (default 1,16,100,256,1024,1792,3072)
  --seconds N       fan-out measurement window per point (default 8)
  --server LIST     camcast,reference or both (default both)
  --fps N           frames per second sent (default 30)
  --source SPEC     what both servers send in the fan-out and stalled scenarios: push (default:
                    one fixed JPEG pushed at --fps, so only fan-out is measured) or a camcast
                    source as camcast's --source takes it: test, a camera, a file or a URL
                    (ffmpeg's CPU, for a camera, file or URL, shows as 'other CPU %')
  --size WxH        picture size (default 1280x720): of the pushed JPEG, or asked of the source
                    (the encode scenario always measures 1280x720 and 1920x1080)
  --stalled-seconds N   stalled scenario length (default 20)
  --encode-seconds N    each encode measurement (default 3)
  --repeat N        runs of each point from 1792 viewers up, servers alternating; the run with
                    the median fps mean is reported, every run is listed (default 5)
  --quick           viewers 1,16,256, 3 s windows, 6 s stalled, 1 s encodes
  --no-write        print only; write neither bench/results nor BENCHMARKS.md
A run with every default (every scenario, both servers, full length, the issue's picture:
push, 1280x720, 30 fps) rewrites BENCHMARKS.md and bench/results/latest.json; any other run
writes bench/results/partial.json.`;

/**
 * From here up the machine is saturated, and its capacity for loopback traffic drifts from one
 * minute to the next (by up to a third while this was written), so these points run several times.
 */
export const SATURATED_VIEWERS = 1792;

const ALL: readonly Scenario[] = ['fanout', 'stalled', 'encode'];
const SERVERS: readonly ServerChoice[] = ['camcast', 'reference'];
/** Runs of each saturated point: the median of five moves less with the machine's drift than that of three. */
const DEFAULT_REPEAT = 5;
const DEFAULT_VIEWERS = [1, 16, 100, 256, 1024, 1792, 3072];
const DEFAULT_SECONDS = { seconds: 8, stalledSeconds: 20, encodeSeconds: 3 };

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        quick: { type: 'boolean' },
        'no-write': { type: 'boolean' },
        scenario: { type: 'string' },
        server: { type: 'string' },
        viewers: { type: 'string' },
        seconds: { type: 'string' },
        fps: { type: 'string' },
        source: { type: 'string' },
        size: { type: 'string' },
        'stalled-seconds': { type: 'string' },
        'encode-seconds': { type: 'string' },
        repeat: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n${USAGE}`);
  }
  const quick = values.quick ?? false;
  const optional = (flag: string, text: string | undefined, fallback: number, min: number, max: number) =>
    text === undefined ? fallback : integer(flag, text, min, max);
  return {
    help: values.help ?? false,
    quick,
    scenarios: values.scenario === undefined ? ALL : oneOf('--scenario', values.scenario, ALL, 'scenario'),
    servers: values.server === undefined ? SERVERS : oneOf('--server', values.server, SERVERS, 'server'),
    viewers: values.viewers === undefined ? (quick ? [1, 16, 256] : DEFAULT_VIEWERS) : values.viewers.split(',').map((v) => integer('--viewers', v, 1, 20_000)),
    seconds: optional('--seconds', values.seconds, quick ? 3 : DEFAULT_SECONDS.seconds, 1, 120),
    fps: optional('--fps', values.fps, ISSUE_PICTURE.fps, 1, 120),
    source: sourceSpec(values.source),
    ...size(values.size),
    stalledSeconds: optional('--stalled-seconds', values['stalled-seconds'], quick ? 6 : DEFAULT_SECONDS.stalledSeconds, 2, 300),
    encodeSeconds: optional('--encode-seconds', values['encode-seconds'], quick ? 1 : DEFAULT_SECONDS.encodeSeconds, 1, 60),
    repeat: optional('--repeat', values.repeat, quick ? 1 : DEFAULT_REPEAT, 1, 9),
    write: !(values['no-write'] ?? false),
  };
}

/** A comma-separated list of names from `known`, or 'all' / 'both' for every one of them. */
function oneOf<T extends string>(flag: string, text: string, known: readonly T[], what: string): readonly T[] {
  if (text === 'all' || text === 'both') return known;
  const list = text.split(',');
  for (const name of list) if (!known.includes(name as T)) throw new Error(`${flag}: unknown ${what} '${name}' (${known.join(', ')}, ${known.length === 2 ? 'both' : 'all'})`);
  return list as T[];
}

function sourceSpec(text: string | undefined): string {
  if (text === undefined) return ISSUE_PICTURE.source;
  if (text.trim() === '') throw new Error("--source is empty: use push, test, a camera, a file or a URL");
  return text.trim();
}

/** The bench's own bounds, up to 8K: the library takes up to 16384, but no bench needs such a picture. */
function size(text: string | undefined): { width: number; height: number } {
  if (text === undefined) return { width: ISSUE_PICTURE.width, height: ISSUE_PICTURE.height };
  const match = /^(\d+)x(\d+)$/.exec(text.trim());
  const [width, height] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (!(width >= 16 && width <= 7680 && height >= 16 && height <= 4320)) {
    throw new Error(`--size: '${text}' is not WIDTHxHEIGHT from 16x16 to 7680x4320 (e.g. 1280x720)`);
  }
  return { width, height };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: '${text}' is not a whole number from ${min} to ${max}`);
  return n;
}

/** The picture the issue's targets are set for: one 720p JPEG pushed at 30 fps. */
export function isIssuePicture(o: Pick<BenchOptions, 'source' | 'width' | 'height' | 'fps'>): boolean {
  return o.source === ISSUE_PICTURE.source && o.width === ISSUE_PICTURE.width && o.height === ISSUE_PICTURE.height && o.fps === ISSUE_PICTURE.fps;
}

/** True for the run that BENCHMARKS.md records: every default, so every full run measures the same thing. */
export function isFullRun(o: BenchOptions): boolean {
  return (
    !o.quick &&
    o.scenarios.length === ALL.length &&
    o.servers.length === SERVERS.length &&
    o.viewers.join() === DEFAULT_VIEWERS.join() &&
    o.seconds === DEFAULT_SECONDS.seconds &&
    o.stalledSeconds === DEFAULT_SECONDS.stalledSeconds &&
    o.encodeSeconds === DEFAULT_SECONDS.encodeSeconds &&
    o.repeat === DEFAULT_REPEAT &&
    isIssuePicture(o)
  );
}
