import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, test } from 'node:test';
import { isLoopback, listenUrls } from './listen-urls.js';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal }) as NetworkInterfaceInfo;
const interfaces = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('192.168.1.20', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::20', 'IPv6')],
  wlan0: [nic('10.0.0.7', 'IPv4')],
};

describe('listenUrls()', () => {
  test('0.0.0.0 is shown as the loopback URL plus each IPv4 address of the machine', () => {
    const urls = listenUrls({ host: '0.0.0.0', port: 8080, url: 'http://0.0.0.0:8080/' }, interfaces);
    assert.equal(urls.local, 'http://127.0.0.1:8080/');
    assert.deepEqual(urls.network, ['http://192.168.1.20:8080/', 'http://10.0.0.7:8080/']);
  });

  test(':: adds global IPv6 addresses in brackets, never link-local ones, and keeps https', () => {
    const urls = listenUrls({ host: '::', port: 8443, url: 'https://[::]:8443/' }, interfaces);
    assert.equal(urls.local, 'https://[::1]:8443/');
    assert.deepEqual(urls.network, ['https://192.168.1.20:8443/', 'https://[2001:db8::20]:8443/', 'https://10.0.0.7:8443/']);
  });

  test('a specific address is shown as it is, with no network list', () => {
    const urls = listenUrls({ host: '192.168.1.20', port: 80, url: 'http://192.168.1.20:80/' }, interfaces);
    assert.deepEqual(urls, { local: 'http://192.168.1.20:80/', network: [] });
  });
});

test('isLoopback() knows loopback however it is written, and nothing else', () => {
  for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '0000:0000:0000:0000:0000:0000:0000:0001', '::ffff:127.0.0.1']) assert.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '192.168.1.20', 'camcast-pi.local', '128.0.0.1']) assert.ok(!isLoopback(host), host);
});
