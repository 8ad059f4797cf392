import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** What the figures were measured on, printed with them. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  readonly openFiles: { readonly soft: number; readonly hard: number };
  readonly sharp?: Record<string, string>;
  readonly tjbench?: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    openFiles: openFileLimit(),
  };
}

/** This process's RLIMIT_NOFILE (children inherit it). */
export function openFileLimit(): { soft: number; hard: number } {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').trim().split(/\s+/).slice(3, 5).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    if (Number.isFinite(soft) || soft === Infinity) return { soft: soft!, hard: hard! };
  } catch {
    // not Linux: fall through
  }
  return { soft: NaN, hard: NaN };
}

/**
 * The open-file limit to give a child that must hold `needed` sockets, or undefined when the
 * inherited one is enough. Raising it needs `prlimit` (util-linux) and stays below the hard limit:
 * nothing system-wide is touched.
 */
export function nofileFor(needed: number): number | undefined {
  const { soft, hard } = openFileLimit();
  if (!(soft < needed)) return undefined;
  if (!hasCommand('prlimit')) throw new Error(`${needed} sockets need 'ulimit -n' of at least ${needed} (it is ${soft}); raise it or install util-linux's prlimit`);
  if (hard < needed) throw new Error(`${needed} sockets need an open-file limit of ${needed} but the hard limit is ${hard}; run the bench from a shell with 'ulimit -n ${needed}'`);
  return Math.min(hard, Math.max(needed, 4096));
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whole-machine CPU time from /proc/stat, to tell the bench's own load from anyone else's. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export function cpuTimes(): CpuTimes | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Busy share of the whole machine between two readings, in percent of one core (200 = 2 cores). */
export function machineBusyPercent(from: CpuTimes | undefined, to: CpuTimes | undefined, cpus: number): number {
  if (!from || !to || to.total === from.total) return NaN;
  return ((to.busy - from.busy) / (to.total - from.total)) * 100 * cpus;
}

/**
 * The kernel's count of connections dropped because a listen queue was full (machine-wide,
 * from /proc/net/netstat). A server that accepts too slowly shows here: its newcomers wait for
 * SYN-ACK retransmits (1 s, 3 s, 7 s...) before their first byte.
 */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf('ListenOverflows')]);
  } catch {
    return NaN;
  }
}
