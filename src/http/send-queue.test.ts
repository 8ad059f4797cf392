import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { connectionKey, parseProcNetTcp, readSendQueues } from './send-queue.js';
import { until } from '../testing/fake-source.js';

test('connectionKey() spells a connection as /proc does: little-endian words, IPv4 peers of IPv6 sockets mapped', () => {
  const table: Array<[string, number, string]> = [
    ['127.0.0.1', 53924, '0100007F:D2A4|1F90'],
    ['::ffff:192.168.0.10', 40000, '0000000000000000FFFF00000A00A8C0:9C40|1F90'],
    ['::1', 49152, '00000000000000000000000001000000:C000|1F90'],
    ['2001:db8::20', 1, 'B80D0120000000000000000020000000:0001|1F90'],
    // IPv4-compatible, as Node prints it: dotted at the end.
    ['::1.2.3.4', 2, '00000000000000000000000004030201:0002|1F90'],
  ];
  for (const [address, port, key] of table) assert.equal(connectionKey(address, port, 8080), key, address);
});

test('parseProcNetTcp() reads the send queue of each connection to the given ports, IPv4, IPv6 and IPv4-mapped', () => {
  const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2A4 01 0003E800:00000000 01:00000014 00000000     0        0 1002 1 0 20 4 30 10 -1
   2: 0100007F:0050 0100007F:D2A5 01 00010000:00000000 01:00000014 00000000     0        0 1003 1 0 20 4 30 10 -1
`;
  const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C000 01 00001000:00000000 00:00000000 00000000     0        0 2001 1 0 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000A00A8C0:9C40 01 00000200:00000000 00:00000000 00000000     0        0 2002 1 0 20 4 30 10 -1
`;
  const ports = new Set([8080]);
  const queues4 = new Map<string, number>();
  assert.equal(parseProcNetTcp(tcp, ports, queues4), 3, 'rows of the table, not the header');
  assert.deepEqual([...queues4], [
    // The listening socket (no peer) is a connection from 0.0.0.0:0, which no viewer has.
    ['00000000:0000|1F90', 0],
    [connectionKey('127.0.0.1', 53924, 8080), 256_000],
  ]);
  const queues6 = new Map<string, number>();
  parseProcNetTcp(tcp6.trimEnd(), ports, queues6); // the last line without its newline too
  assert.deepEqual([...queues6], [
    [connectionKey('::1', 49152, 8080), 4096],
    [connectionKey('::ffff:192.168.0.10', 40000, 8080), 512],
  ]);
});

test('parseProcNetTcp() reads every one of 3000 connections', () => {
  let text = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  for (let i = 0; i < 3000; i++) text += `${String(i).padStart(4)}: 0100007F:1F90 0100007F:${(30000 + i).toString(16).toUpperCase()} 01 00000400:00000000 01:00000014 00000000     0        0 ${1000 + i} 1 0 20 4 30 10 -1\n`;
  const queues = new Map<string, number>();
  assert.equal(parseProcNetTcp(text, new Set([8080]), queues), 3000);
  assert.equal(queues.size, 3000);
  assert.equal(queues.get(connectionKey('127.0.0.1', 32999, 8080)), 1024);
});

test('readSendQueues() finds what the kernel holds for a peer that does not read', async (t: TestContext) => {
  let accepted: net.Socket | undefined;
  const server = net.createServer((socket) => (accepted = socket));
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  t.after(() => client.destroy());
  client.pause();
  await until(() => accepted !== undefined, 'the connection');
  t.after(() => accepted!.destroy());
  accepted!.write(Buffer.alloc(2 * 1024 * 1024));
  const key = connectionKey(accepted!.remoteAddress!, accepted!.remotePort!, port);
  let queued = 0;
  await until(() => {
    void readSendQueues(new Set([port])).then((reading) => (queued = reading?.queues.get(key) ?? 0));
    return queued > 64 * 1024;
  }, 'a long send queue');
});
