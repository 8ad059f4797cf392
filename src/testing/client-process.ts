import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

/**
 * Helpers for tests that drive real client programs (ffmpeg, GStreamer, VLC, Python, nginx).
 * A missing program fails the test with the Debian package to install; it never skips.
 */

// Debian puts nginx in /usr/sbin, which is not on a normal user's PATH.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The full path of `command` on PATH or in the sbin directories, else undefined. */
export function findCommand(command: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...SBIN_DIRS]) {
    if (dir && isExecutable(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** The full path of `command`; throws, naming the Debian package, when it is missing. */
export function requireCommand(command: string, debianPackage: string): string {
  const path = findCommand(command);
  if (!path) throw new Error(`${command} not found: install it with apt-get install ${debianPackage} (npm test does this when run as root on Debian)`);
  return path;
}

const PYTHON_PACKAGES: Readonly<Record<string, string>> = { cv2: 'python3-opencv', aiohttp: 'python3-aiohttp', prometheus_client: 'python3-prometheus-client' };

/**
 * Debian's Python, which has the Debian modules (cv2, aiohttp) that a pyenv or venv python3
 * earlier on PATH lacks. Throws, naming the packages, when a module cannot be imported.
 */
export function debianPython(modules: readonly string[] = []): string {
  const python = process.env.CAMCAST_TEST_PYTHON ?? (isExecutable('/usr/bin/python3') ? '/usr/bin/python3' : findCommand('python3'));
  if (!python) throw new Error('python3 not found: apt-get install python3');
  if (modules.length > 0) {
    const probe = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status !== 0) {
      const packages = modules.map((m) => PYTHON_PACKAGES[m] ?? `python3-${m}`).join(' ');
      throw new Error(`${python} cannot import ${modules.join(', ')} (${(probe.stderr ?? '').trim().split('\n').at(-1)}): apt-get install ${packages}`);
    }
  }
  return python;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  /** The last 8 KiB of stderr, for assertion messages. */
  readonly stderr: string;
  /** True when the time limit killed the process. */
  readonly timedOut: boolean;
}

export interface RunOptions extends Pick<SpawnOptions, 'env' | 'cwd' | 'uid' | 'gid'> {
  readonly timeoutMs?: number;
  /** Bytes of stdout kept; more is dropped. */
  readonly maxStdout?: number;
}

/**
 * Runs a client program to its end, or kills it after `timeoutMs`. The kill is also registered
 * with `t.after` at once, so a failing test never leaves the process behind.
 */
export function runClient(t: TestContext, command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 20_000, maxStdout = 64 * 1024 * 1024, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const chunks: Buffer[] = [];
  let kept = 0;
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    if (kept >= maxStdout) return;
    chunks.push(chunk);
    kept += chunk.length;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(chunks), stderr, timedOut });
    });
  });
}

/** Runs a program that prints one JSON document on stdout and returns it parsed. */
export async function runJsonClient<T>(t: TestContext, command: string, args: readonly string[], options: RunOptions = {}): Promise<T> {
  const result = await runClient(t, command, args, options);
  const text = result.stdout.toString().trim();
  if (result.code !== 0 || !text) {
    throw new Error(`${command} exited with ${result.code ?? result.signal}${result.timedOut ? ' (timed out)' : ''}: ${result.stderr.slice(-2000) || text.slice(-2000)}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${command} printed no JSON: ${text.slice(-2000)}`);
  }
}
