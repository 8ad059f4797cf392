import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';

/**
 * How many bytes each TCP connection to this server has in its kernel send queue (written by
 * the server, not yet acknowledged by the viewer), from Linux's /proc/net/tcp and tcp6.
 *
 * Why: Linux grows a socket's send buffer on its own, to 4 MB by default (tcp_wmem), and
 * write() hands bytes to the kernel long before a slow viewer takes them. The viewer's one part
 * in user space (see MjpegViewer) is then no bound at all: megabytes, seconds or minutes of
 * video, queue in the kernel, and a slow viewer watches the past. Node has no setsockopt for
 * SO_SNDBUF or TCP_NOTSENT_LOWAT, so the queue is read here instead, and SendQueueWatch holds
 * back a viewer whose queue is too long.
 *
 * Connections are keyed as /proc spells them (hex, see connectionKey()), so reading thousands of
 * lines twice a second costs substrings, not address parsing.
 */
export type SendQueues = ReadonlyMap<string, number>;

/**
 * A connection as /proc/net/tcp or tcp6 shows it: "0100007F:D2A4|1F90" (peer address:port, our
 * port). Node gives the peer of an IPv6 socket in IPv6 form (::ffff:127.0.0.1 for an IPv4 one).
 */
export function connectionKey(remoteAddress: string, remotePort: number, localPort: number): string {
  return `${procAddress(remoteAddress, procTable(remoteAddress) === 'tcp6')}:${hex4(remotePort)}|${hex4(localPort)}`;
}

function hex4(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * An address in /proc's spelling: the bytes of each 32-bit word in the kernel's order, which is
 * little-endian on every machine this runs on (x86, arm64). On an IPv6 socket an IPv4 peer is
 * the mapped ::ffff:a.b.c.d.
 */
function procAddress(address: string, ipv6Socket: boolean): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1]! : isIPv4(address) ? address : undefined;
  const bytes = v4 !== undefined ? [...(ipv6Socket ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] : []), ...v4.split('.').map(Number)] : ipv6Bytes(address);
  let text = '';
  for (let word = 0; word < bytes.length; word += 4) {
    for (let i = 3; i >= 0; i--) text += bytes[word + i]!.toString(16).toUpperCase().padStart(2, '0');
  }
  return text;
}

/** The 16 bytes of an IPv6 address in text ("fe80::1", or "::1.2.3.4" with a dotted end). */
function ipv6Bytes(address: string): number[] {
  const [head = '', tail] = address.split('%')[0]!.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  ).split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : 8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((group) => {
    const value = parseInt(group, 16) || 0;
    return [value >> 8, value & 0xff];
  });
}

/**
 * The text of /proc/net/tcp or tcp6 to SendQueues, for connections to `localPorts` only, into
 * `queues`; returns how many rows the table has (the cost of reading it). Its columns are fixed:
 * "  7: 0100007F:1F90 0100007F:D2A4 01 00000F3C:00000000 ...".
 */
export function parseProcNetTcp(text: string, localPorts: ReadonlySet<number>, queues = new Map<string, number>()): number {
  const ports = new Set([...localPorts].map(hex4));
  let rows = 0;
  // Positions in the text itself, no string per line: most rows are other sockets of the machine.
  let start = text.indexOf('\n') + 1; // after the header
  while (start > 0 && start < text.length) {
    const end = text.indexOf('\n', start);
    const next = end < 0 ? text.length : end + 1;
    const local = text.indexOf(': ', start) + 2;
    if (local < 2 || local >= next) break;
    rows++;
    start = next;
    const width = text[local + 8] === ':' ? 8 : 32;
    const localPort = text.substr(local + width + 1, 4);
    if (!ports.has(localPort)) continue;
    const remote = local + width + 6;
    const tx = remote + width + 9; // past "ADDR:PORT ST "
    queues.set(`${text.substr(remote, width + 5)}|${localPort}`, parseInt(text.substr(tx, 8), 16));
  }
  return rows;
}

/** One reading of the send queues, and how many rows (sockets of the machine) it went through. */
export interface SendQueueReading {
  readonly queues: SendQueues;
  readonly rows: number;
}

/** Errors that mean /proc/net has no such table here, now or ever. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);

/** Which of /proc/net's tables hold a connection: tcp6 for a socket of an IPv6 (or dual-stack) server. */
export type ProcTable = 'tcp' | 'tcp6';

export function procTable(remoteAddress: string): ProcTable {
  return remoteAddress.includes(':') ? 'tcp6' : 'tcp';
}

/**
 * Reads the send queues of connections to `localPorts` from `tables` (the kernel writes out
 * every socket of a table, so the one not needed is not read); undefined where no table exists
 * (not Linux, or a sandbox without /proc), where nothing can be done. Rejects on any other
 * failure (out of file descriptors), which may pass.
 */
export async function readSendQueues(localPorts: ReadonlySet<number>, tables: Iterable<ProcTable> = ['tcp', 'tcp6'], procDir = '/proc/net'): Promise<SendQueueReading | undefined> {
  const texts = await Promise.all(
    [...tables].map((name) =>
      readFile(`${procDir}/${name}`, 'latin1').catch((error: NodeJS.ErrnoException) => {
        if (ABSENT.has(error.code ?? '')) return undefined;
        throw error;
      }),
    ),
  );
  if (texts.every((text) => text === undefined)) return undefined;
  const queues = new Map<string, number>();
  let rows = 0;
  for (const text of texts) if (text !== undefined) rows += parseProcNetTcp(text, localPorts, queues);
  return { queues, rows };
}
