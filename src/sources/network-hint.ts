import { describeError } from '../errors.js';
import { portOf } from './url-scheme.js';

/**
 * Node reports a network failure in the words of the OS or of OpenSSL ("connect ECONNREFUSED
 * 127.0.0.1:80", or an OpenSSL error string with its source file and line). These turn one
 * into a single line that also says what to do. The message keeps the error code, so it can
 * still be searched for.
 */

/** camcast's own deadline for an answer, recognised by its class rather than by its text. */
export class NoAnswerError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs / 1000} s`);
    this.name = 'NoAnswerError';
  }
}

/** Node's codes for a certificate whose issuer TLS verification does not know. */
const UNKNOWN_ISSUER = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * A certificate refused for what it says, not for who signed it: trusting it changes nothing,
 * since expiry and the name are checked all the same (cameras' certificates often name no IP).
 */
const BAD_CERTIFICATE = new Set(['CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

const NOT_TLS = 'it does not speak TLS: use http:// instead of https://';

/**
 * One line for an error met while reaching `target`: Node's own words, without OpenSSL's
 * internals, then a hint when the code is one we know. An untrusted certificate is told
 * differently: the hint names Node's reason itself.
 */
export function describeNetworkError(error: unknown, target?: URL): string {
  // Some of Node's messages end in ": " (the certificate altname one): not before our colon.
  const said = withoutOpenSslInternals(messageOf(error)).replace(/[\s:]+$/, '');
  const code = codeOf(error);
  if (code !== undefined && UNKNOWN_ISSUER.has(code)) {
    return `its certificate is not trusted (${said}): if this is your camera, add --insecure (insecure: true in the API), or trust its certificate with NODE_EXTRA_CA_CERTS=cert.pem`;
  }
  if (code !== undefined && BAD_CERTIFICATE.has(code)) {
    return `its certificate is not trusted (${said}): if this is your camera, add --insecure (insecure: true in the API)`;
  }
  const hint = networkHint(error, code, said, target);
  return hint === undefined ? said : `${said}: ${hint}`;
}

function networkHint(error: unknown, code: string | undefined, said: string, target: URL | undefined): string | undefined {
  if (error instanceof NoAnswerError) return 'check the address and the network';
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing listens ${where(error, said, target)}: check the address, the port and that the camera is on`;
    case 'ENOTFOUND':
      return 'the host name does not resolve: check it';
    case 'EAI_AGAIN':
      return 'the host name could not be resolved just now (DNS did not answer): check the network';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return 'check the address and the network';
    case 'ECONNRESET':
      return 'the connection was cut';
    // OpenSSL 3.0 (Node 20) says "wrong version number"; later ones, "packet length too long".
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return NOT_TLS;
    case 'EPROTO':
      // A plain-HTTP server's answer read as a TLS record.
      return /wrong version number|packet length too long/i.test(said) ? NOT_TLS : undefined;
    default:
      return undefined;
  }
}

/** "there" when Node's message already names the address and port, else "at host:port". */
function where(error: unknown, said: string, target: URL | undefined): string {
  const { address, port } = error as { address?: unknown; port?: unknown };
  if (address !== undefined && port !== undefined && said.includes(`${String(address)}:${String(port)}`)) return 'there';
  if (target === undefined) return 'there';
  return `at ${target.hostname}:${portOf(target) ?? '?'}`;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * describeError's line, or, for the AggregateError Node gives when every address of a host
 * failed (its message is empty), the first of those errors.
 */
function messageOf(error: unknown): string {
  const said = describeError(error);
  if (said !== '') return said;
  const first = (error as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(first) && first.length > 0) return describeError(first[0]);
  return codeOf(error) ?? 'unknown error';
}

/**
 * "write EPROTO 80DC...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:
 * ../deps/openssl/openssl/ssl/record/ssl3_record.c:354:" -> "write EPROTO wrong version number":
 * OpenSSL's thread id, error number, function and source file say nothing to a user.
 */
export function withoutOpenSslInternals(message: string): string {
  return message.replace(/\b[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):\S*/g, '$1').trim();
}
