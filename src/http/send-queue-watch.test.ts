import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionKey } from './send-queue.js';
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

/** A watch reading `queues` (set with `set`) as if from /proc, `rows` sockets on the machine. */
function watchOf(viewers: FakeViewer[], { rows = 100, fail = false } = {}) {
  const queues = new Map<string, number>();
  const reads: Array<[ReadonlySet<number>, ReadonlySet<string>]> = [];
  const state = { rows, fail };
  const watch = new SendQueueWatch(() => viewers, {
    everyMs: 1000,
    maxQueueBytes: 256_000,
    read: async (ports, tables) => {
      reads.push([ports, tables]);
      if (state.fail) throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
      return { queues, rows: state.rows };
    },
  });
  const set = (viewer: FakeViewer, bytes: number) => queues.set(connectionKey('::ffff:127.0.0.1', viewer.port, 8080), bytes);
  return { watch, reads, set, state };
}

test('SendQueueWatch leaves a viewer that keeps up alone, and holds back one whose kernel queue is past the limit', async () => {
  const fast = new FakeViewer(40001);
  const slow = new FakeViewer(40002);
  const { watch, reads, set } = watchOf([fast, slow]);
  set(fast, 20_000);
  set(slow, 300_000);
  await watch.check();
  assert.deepEqual([...reads[0]![0]], [8080], 'the queues of the server port are read');
  assert.deepEqual([...reads[0]![1]], ['tcp6'], 'from the table of its sockets (IPv4 peers of a dual-stack socket)');
  assert.deepEqual(fast.limits, []);
  assert.deepEqual(slow.limits, [0]);
});

test('SendQueueWatch budgets a slow viewer to what it drains, and lets it go after ten readings with nothing held back', async () => {
  const slow = new FakeViewer(40003);
  const { watch, set } = watchOf([slow]);
  set(slow, 1_000_000);
  await watch.check();
  assert.deepEqual(slow.limits, [0]);
  // About a second later: it took 900 KB, nothing more was sent.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  set(slow, 100_000);
  await watch.check();
  const budget = slow.limits.at(-1)!;
  // The 156 KB left under the limit, and 1.5 times the (about) 900 KB/s it drains, for the next second.
  assert.ok(budget > 1_150_000 && budget < 1_560_000, `budget ${budget}`);
  // That reading held nothing back; so do the next eight.
  for (let reading = 2; reading <= 9; reading++) {
    await watch.check();
    assert.notEqual(slow.limits.at(-1), undefined, `still budgeted after ${reading} calm readings`);
  }
  await watch.check();
  assert.equal(slow.limits.at(-1), undefined, 'sends freely again');
});

test('SendQueueWatch keeps budgeting while frames are held back, under the limit always lets a part go, and the limit is at least two parts', async () => {
  const slow = new FakeViewer(40004);
  slow.partBytes = 200_000;
  const { watch, set } = watchOf([slow]);
  set(slow, 300_000);
  await watch.check();
  assert.deepEqual(slow.limits, [], '300 KB is under two 200 KB parts');
  set(slow, 500_000);
  await watch.check();
  assert.deepEqual(slow.limits, [0]);
  for (let reading = 0; reading < 12; reading++) {
    slow.heldBack++;
    // Full to the limit, draining nothing: still room for one part, however large.
    set(slow, 400_000);
    await watch.check();
    assert.ok(slow.limits.at(-1)! >= 1, `reading ${reading}: ${slow.limits.at(-1)}`);
  }
});

test('SendQueueWatch tells a held viewer it drained only once a part\'s worth has gone', async () => {
  const slow = new FakeViewer(40005);
  const { watch, set } = watchOf([slow]);
  set(slow, 600_000);
  await watch.check();
  for (const queued of [599_000, 598_000, 560_000, 540_000]) {
    set(slow, queued);
    await watch.check();
  }
  // 1, 1, 38 and 20 KB: the 50 KB of a part were reached at the last reading only.
  assert.equal(slow.drains, 1);
});

test('SendQueueWatch lifts every limit when a reading fails, and stops for good where there is nothing to read', async () => {
  const slow = new FakeViewer(40006);
  const { watch, set, state } = watchOf([slow]);
  set(slow, 600_000);
  await watch.check();
  assert.deepEqual(slow.limits, [0]);
  state.fail = true;
  await watch.check();
  assert.deepEqual(slow.limits, [0, undefined], 'not left held by a watch that cannot see it drain');

  let reads = 0;
  const viewer = new FakeViewer(40007);
  const absent = new SendQueueWatch(() => [viewer], {
    everyMs: 20,
    read: async () => {
      reads++;
      return undefined;
    },
  });
  await absent.check();
  absent.start();
  await new Promise((resolve) => setTimeout(resolve, 200));
  absent.stop();
  assert.equal(reads, 1, 'no timer started after it');
});

test('SendQueueWatch reads less often on a machine with many sockets, whose table costs more to read', async () => {
  const viewer = new FakeViewer(40008);
  const { watch, set, state } = watchOf([viewer], { rows: 3000 });
  set(viewer, 0);
  await watch.check();
  assert.equal(watch.delayMs, 1000);
  state.rows = 100_000;
  await watch.check();
  assert.equal(watch.delayMs, 10_000);
});
