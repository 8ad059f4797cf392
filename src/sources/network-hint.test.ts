import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeNetworkError, NoAnswerError, withoutOpenSslInternals } from './network-hint.js';

/** An error as node:net, node:dns or node:tls make them: a message and a string code. */
function nodeError(message: string, code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

const OPENSSL_WRONG_VERSION =
  'write EPROTO 80DC2F8A3B7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:\n';
const TRUST = 'if this is your camera, add --insecure (insecure: true in the API), or trust its certificate with NODE_EXTRA_CA_CERTS=cert.pem';
/** Trusting the certificate would not help: expiry and the name are checked all the same. */
const INSECURE_ONLY = 'if this is your camera, add --insecure (insecure: true in the API)';
const target = new URL('http://cam.local:8080/video.mjpg');

for (const [name, error, expected] of [
  [
    'ECONNREFUSED, Node naming the address',
    nodeError('connect ECONNREFUSED 127.0.0.1:18999', 'ECONNREFUSED', { address: '127.0.0.1', port: 18999 }),
    'connect ECONNREFUSED 127.0.0.1:18999: nothing listens there: check the address, the port and that the camera is on',
  ],
  [
    'ECONNREFUSED, Node not naming it',
    nodeError('connect ECONNREFUSED', 'ECONNREFUSED'),
    'connect ECONNREFUSED: nothing listens at cam.local:8080: check the address, the port and that the camera is on',
  ],
  ['ENOTFOUND', nodeError('getaddrinfo ENOTFOUND cam.local', 'ENOTFOUND'), 'getaddrinfo ENOTFOUND cam.local: the host name does not resolve: check it'],
  ['EAI_AGAIN', nodeError('getaddrinfo EAI_AGAIN cam.local', 'EAI_AGAIN'), 'getaddrinfo EAI_AGAIN cam.local: the host name could not be resolved just now (DNS did not answer): check the network'],
  ['EHOSTUNREACH', nodeError('connect EHOSTUNREACH 10.0.0.9:80', 'EHOSTUNREACH'), 'connect EHOSTUNREACH 10.0.0.9:80: check the address and the network'],
  ['ENETUNREACH', nodeError('connect ENETUNREACH 10.0.0.9:80', 'ENETUNREACH'), 'connect ENETUNREACH 10.0.0.9:80: check the address and the network'],
  ['ETIMEDOUT', nodeError('connect ETIMEDOUT 10.0.0.9:80', 'ETIMEDOUT'), 'connect ETIMEDOUT 10.0.0.9:80: check the address and the network'],
  ['our own deadline', new NoAnswerError(5000), 'no answer within 5 s: check the address and the network'],
  ['ECONNRESET', nodeError('socket hang up', 'ECONNRESET'), 'socket hang up: the connection was cut'],
  ['EPROTO wrong version number (https:// to a plain-HTTP server)', nodeError(OPENSSL_WRONG_VERSION, 'EPROTO'), 'write EPROTO wrong version number: it does not speak TLS: use http:// instead of https://'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', nodeError('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), 'wrong version number: it does not speak TLS: use http:// instead of https://'],
  // What OpenSSL after 3.0 (newer Node) says of the same plain-HTTP answer.
  ['ERR_SSL_PACKET_LENGTH_TOO_LONG', nodeError('packet length too long', 'ERR_SSL_PACKET_LENGTH_TOO_LONG'), 'packet length too long: it does not speak TLS: use http:// instead of https://'],
  ['EPROTO packet length too long', nodeError('write EPROTO packet length too long', 'EPROTO'), 'write EPROTO packet length too long: it does not speak TLS: use http:// instead of https://'],
  ['a self-signed certificate', nodeError('self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT'), `its certificate is not trusted (self-signed certificate): ${TRUST}`],
  ['a self-signed root', nodeError('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'), `its certificate is not trusted (self-signed certificate in certificate chain): ${TRUST}`],
  ['an unknown issuer', nodeError('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), `its certificate is not trusted (unable to verify the first certificate): ${TRUST}`],
  ['a missing local issuer', nodeError('unable to get local issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), `its certificate is not trusted (unable to get local issuer certificate): ${TRUST}`],
  ['an expired certificate', nodeError('certificate has expired', 'CERT_HAS_EXPIRED'), `its certificate is not trusted (certificate has expired): ${INSECURE_ONLY}`],
  [
    'a certificate for another name',
    nodeError("Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list: ", 'ERR_TLS_CERT_ALTNAME_INVALID'),
    `its certificate is not trusted (Hostname/IP does not match certificate's altnames: IP: 10.0.0.9 is not in the cert's list): ${INSECURE_ONLY}`,
  ],
  [
    'every address of a host refused (an AggregateError with no message of its own)',
    Object.assign(new AggregateError([nodeError('connect ECONNREFUSED ::1:80', 'ECONNREFUSED')], ''), { code: 'ECONNREFUSED' }),
    'connect ECONNREFUSED ::1:80: nothing listens at cam.local:8080: check the address, the port and that the camera is on',
  ],
  ['an error it has no hint for', nodeError('something else', 'EWHATEVER'), 'something else'],
  ['not an error at all', 'boom', 'boom'],
] as const) {
  test(`describeNetworkError() on ${name}`, () => {
    assert.equal(describeNetworkError(error, target), expected);
  });
}

test('describeNetworkError() never shows OpenSSL internals or more than one line', () => {
  const said = describeNetworkError(Object.assign(new Error(`${OPENSSL_WRONG_VERSION}second line`), { code: 'EPROTO' }));
  assert.doesNotMatch(said, /deps\/openssl|:error:|0A00010B|\n/);
});

test('withoutOpenSslInternals() keeps the reason of each OpenSSL error and the prose around it', () => {
  assert.equal(
    withoutOpenSslInternals('read EPROTO 40F7:error:0A000086:SSL routines::certificate verify failed:ssl/statem/statem_clnt.c:1889: after all'),
    'read EPROTO certificate verify failed after all',
  );
  assert.equal(withoutOpenSslInternals('connect ECONNREFUSED 127.0.0.1:80'), 'connect ECONNREFUSED 127.0.0.1:80');
});
