import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionKey, type SendQueues } from './send-queue.js';
import { SendQueueWatch, type QueuedViewer } from './send-queue-watch.js';

/** A viewer the test moves by hand: what it has sent, what the watch allowed it, when it drained. */
class FakeViewer implements QueuedViewer {
  sent = 0;
  partBytes = 50_000;
  heldBack = 0;
  limits: Array<number | undefined> = [];
  drains = 0;
  constructor(readonly port: number) {}
  connection() {
    return { remoteAddress: '::ffff:127.0.0.1', remotePort: this.port, localPort: 8080 };
  }
  bytesSent(): number {
    return this.sent;
  }
  limitSending(bytes: number | undefined): void {
    this.limits.push(bytes);
  }
  drained(): void {
    this.drains++;
  }
}

function watchOf(viewers: FakeViewer[], queues: Map<string, number>) {
  const reads: Array<[ReadonlySet<number>, ReadonlySet<string>]> = [];
  const watch = new SendQueueWatch(() => viewers, {
    everyMs: 1000,
    maxQueueBytes: 256_000,
    read: async (ports, tables) => {
      reads.push([ports, tables]);
      return queues as SendQueues;
    },
  });
  const set = (viewer: FakeViewer, bytes: number) => queues.set(connectionKey('::ffff:127.0.0.1', viewer.port, 8080), bytes);
  return { watch, reads, set };
}

test('SendQueueWatch leaves a viewer that keeps up alone, and holds back one whose kernel queue is past the limit', async () => {
  const fast = new FakeViewer(40001);
  const slow = new FakeViewer(40002);
  const { watch, reads, set } = watchOf([fast, slow], new Map());
  set(fast, 20_000);
  set(slow, 300_000);
  await watch.check();
  assert.deepEqual([...reads[0]![0]], [8080], 'the queues of the server port are read');
  assert.deepEqual([...reads[0]![1]], ['tcp6'], 'from the table of its sockets (IPv4 peers of a dual-stack socket)');
  assert.deepEqual(fast.limits, []);
  assert.deepEqual(slow.limits, [0]);
});

test('SendQueueWatch budgets a slow viewer to what it drains, tells it drained, and lets it go after ten readings with nothing held back', async () => {
  const slow = new FakeViewer(40003);
  const { watch, set } = watchOf([slow], new Map());
  set(slow, 1_000_000);
  await watch.check();
  assert.deepEqual(slow.limits, [0]);
  // A second later: it took 900 KB, nothing more was sent.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  set(slow, 100_000);
  await watch.check();
  assert.equal(slow.drains, 1);
  const budget = slow.limits.at(-1)!;
  // The 156 KB left under the limit, and 1.5 times the 900 KB/s it drains, for the next second.
  assert.ok(budget > 1_450_000 && budget < 1_550_000, `budget ${budget}`);
  // That reading held nothing back; so do the next eight.
  for (let reading = 2; reading <= 9; reading++) {
    await watch.check();
    assert.notEqual(slow.limits.at(-1), undefined, `still budgeted after ${reading} calm readings`);
  }
  await watch.check();
  assert.equal(slow.limits.at(-1), undefined, 'sends freely again');
});

test('SendQueueWatch keeps budgeting while the budget holds frames back, and never limits below two parts of queue', async () => {
  const slow = new FakeViewer(40004);
  slow.partBytes = 200_000;
  const { watch, set } = watchOf([slow], new Map());
  set(slow, 300_000);
  await watch.check();
  assert.deepEqual(slow.limits, [], '300 KB is under two 200 KB parts');
  set(slow, 500_000);
  await watch.check();
  assert.deepEqual(slow.limits, [0]);
  for (let reading = 0; reading < 12; reading++) {
    slow.heldBack++;
    set(slow, 100_000);
    await watch.check();
  }
  assert.notEqual(slow.limits.at(-1), undefined, 'frames keep being held back: still budgeted');
});

test('SendQueueWatch stops for good where the queues cannot be read', async () => {
  let reads = 0;
  const viewer = new FakeViewer(40005);
  const watch = new SendQueueWatch(() => [viewer], {
    everyMs: 20,
    read: async () => {
      reads++;
      return undefined;
    },
  });
  await watch.check();
  watch.start();
  await new Promise((resolve) => setTimeout(resolve, 200));
  watch.stop();
  assert.equal(reads, 1, 'no timer started after it');
  assert.deepEqual(viewer.limits, []);
});
