import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { CamcastError } from '../errors.js';
import { describeValue } from '../option-checks.js';

/** Whether the hop at `address` (0 = the socket's peer) is a proxy whose X-Forwarded-For is believed. */
export type TrustProxy = (address: string, hop: number) => boolean;

const KINDS = 'an address (192.168.1.2, ::1), a CIDR subnet (10.0.0.0/8, fd00::/8) or one of loopback, linklocal, uniquelocal';

/**
 * The --trust-proxy list (or the library's `trustProxy`: a string or a list of strings, each
 * comma-separated) compiled by proxy-addr, Express's own parser of X-Forwarded-For; undefined
 * (null, `[]`) trusts nobody. A bad entry is refused here, named, instead of as proxy-addr's
 * bare TypeError when the first viewer comes.
 */
export function compileTrustProxy(value: unknown, name = 'trustProxy'): TrustProxy | undefined {
  if (value == null) return undefined;
  const notText = Array.isArray(value) ? value.findIndex((entry) => typeof entry !== 'string') : typeof value === 'string' ? -1 : 0;
  if (notText >= 0) {
    const got = Array.isArray(value) ? `${describeValue(value[notText])} in the list` : describeValue(value);
    throw new CamcastError('BAD_OPTION', `${name} must be a comma-separated string or a list of strings, each ${KINDS}, e.g. 'loopback' (got ${got})`);
  }
  const entries = (typeof value === 'string' ? [value] : (value as string[])).flatMap((entry) => entry.split(','));
  const list = entries.map((entry) => entry.trim());
  for (const entry of list) {
    if (entry === '') throw new CamcastError('BAD_OPTION', `${name} has an empty entry (got '${entries.join(',')}'): give each entry as ${KINDS}, separated by single commas`);
    try {
      proxyaddr.compile(entry);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new CamcastError('BAD_OPTION', `${name}: '${entry}' is not ${KINDS}`);
    }
  }
  return list.length === 0 ? undefined : proxyaddr.compile(list);
}

/**
 * Who sent the request. Without a trust list, the socket's peer: a client cannot claim another
 * address. With one, as Express does: while the peer (then each X-Forwarded-For entry, right to
 * left) is trusted, the next one to the left is believed; the first untrusted one is the client.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy | undefined): string | undefined {
  const peer = req.socket?.remoteAddress;
  if (!trust) return peer;
  // Typed as a string; it is the socket's undefined when the client already left. A trusted
  // proxy passes on whatever its own client wrote before it ('unknown', a port, any text):
  // only an address is shown as one, else the proxy's own.
  const forwarded = proxyaddr(req, trust) as string | undefined;
  return forwarded !== undefined && isIP(forwarded) !== 0 ? forwarded : peer;
}
