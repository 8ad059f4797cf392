/** Pure: the bench's argv -> options, with the usage text. */
export type Scenario = 'fanout' | 'stalled' | 'encode';
export type ServerChoice = 'camcast' | 'reference';

export interface BenchOptions {
  readonly help: boolean;
  readonly quick: boolean;
  readonly scenarios: readonly Scenario[];
  readonly servers: readonly ServerChoice[];
  readonly viewers: readonly number[];
  readonly seconds: number;
  readonly fps: number;
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
  --stalled-seconds N   stalled scenario length (default 20)
  --encode-seconds N    each encode measurement (default 3)
  --repeat N        runs of each point from 1792 viewers up, servers alternating; the run with
                    the median fps mean is reported, every run is listed (default 3)
  --quick           viewers 1,16,256, 3 s windows, 6 s stalled, 1 s encodes
  --no-write        print only; write neither bench/results nor BENCHMARKS.md
A run of every scenario at full length rewrites BENCHMARKS.md and bench/results/latest.json;
any other run writes bench/results/partial.json.`;

/**
 * From here up the machine is saturated, and its capacity for loopback traffic drifts from one
 * minute to the next (by up to a third while this was written), so these points run several times.
 */
export const SATURATED_VIEWERS = 1792;

const ALL: readonly Scenario[] = ['fanout', 'stalled', 'encode'];

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  let o = {
    help: false,
    quick,
    scenarios: ALL,
    servers: ['camcast', 'reference'] as readonly ServerChoice[],
    viewers: quick ? [1, 16, 256] : [1, 16, 100, 256, 1024, 1792, 3072],
    seconds: quick ? 3 : 8,
    fps: 30,
    stalledSeconds: quick ? 6 : 20,
    encodeSeconds: quick ? 1 : 3,
    repeat: quick ? 1 : 3,
    write: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        o = { ...o, help: true };
        break;
      case '--quick':
        break;
      case '--no-write':
        o = { ...o, write: false };
        break;
      case '--scenario': {
        const v = value();
        const list = v === 'all' ? ALL : v.split(',');
        for (const s of list) if (!ALL.includes(s as Scenario)) throw new Error(`--scenario: unknown scenario '${s}' (fanout, stalled, encode, all)`);
        o = { ...o, scenarios: list as Scenario[] };
        break;
      }
      case '--server': {
        const v = value();
        const list = v === 'both' ? ['camcast', 'reference'] : v.split(',');
        for (const s of list) if (s !== 'camcast' && s !== 'reference') throw new Error(`--server: unknown server '${s}' (camcast, reference, both)`);
        o = { ...o, servers: list as ServerChoice[] };
        break;
      }
      case '--viewers':
        o = { ...o, viewers: value().split(',').map((v) => integer('--viewers', v, 1, 20_000)) };
        break;
      case '--seconds':
        o = { ...o, seconds: integer(flag, value(), 1, 120) };
        break;
      case '--fps':
        o = { ...o, fps: integer(flag, value(), 1, 120) };
        break;
      case '--stalled-seconds':
        o = { ...o, stalledSeconds: integer(flag, value(), 2, 300) };
        break;
      case '--encode-seconds':
        o = { ...o, encodeSeconds: integer(flag, value(), 1, 60) };
        break;
      case '--repeat':
        o = { ...o, repeat: integer(flag, value(), 1, 9) };
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return o;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: '${text}' is not a whole number from ${min} to ${max}`);
  return n;
}

/** True for the run that BENCHMARKS.md records: every scenario, both servers, full length. */
export function isFullRun(o: BenchOptions): boolean {
  return !o.quick && o.scenarios.length === ALL.length && o.servers.length === 2;
}
