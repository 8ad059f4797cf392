import { BlockList, isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import type { ListenAddress } from '../stream-server.js';

export interface ListenUrls {
  /** The URL to open on this machine. */
  readonly local: string;
  /** Where other machines reach it, when listening on every address (0.0.0.0 or ::). */
  readonly network: readonly string[];
}

/**
 * http://0.0.0.0:8080/ opens nothing in most browsers and tells a user on another machine
 * nothing either: a server listening on every address is shown by its loopback URL and the
 * machine's own addresses, as dev servers print "Local" and "Network".
 */
export function listenUrls(address: ListenAddress, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): ListenUrls {
  const scheme = address.url.slice(0, address.url.indexOf(':'));
  const url = (host: string) => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
  const anyV4 = address.host === '0.0.0.0';
  const anyV6 = address.host === '::';
  if (!anyV4 && !anyV6) return { local: address.url, network: [] };
  const network = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    // An IPv6 socket on :: takes IPv4 as well (Linux's default); link-local IPv6 needs a zone.
    .filter((i) => !i.internal && (i.family === 'IPv4' || (anyV6 && !i.address.toLowerCase().startsWith('fe80:'))))
    .map((i) => url(i.address));
  return { local: url(anyV6 ? '::1' : '127.0.0.1'), network: [...new Set(network)] };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Loopback however it is written (127.x, ::1 in full, ::ffff:127.0.0.1): no other machine can connect. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
