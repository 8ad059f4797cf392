import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { openMjpeg } from '../../testing/mjpeg-client.js';
import { prometheusParse } from '../../testing/python-clients.js';

describe('Prometheus reads /metrics', () => {
  test("the Prometheus Python client's parser reads every family, typed, behind Basic auth", async (t) => {
    const server = createServer({
      source: testPattern({ width: 160, height: 120, fps: 30 }),
      host: '127.0.0.1',
      port: 0,
      auth: { username: 'prom', password: 'scrape' },
    });
    t.after(() => server.close());
    const { url, port } = await server.listen();
    const viewer = openMjpeg(`http://prom:scrape@127.0.0.1:${port}/stream.mjpg`);
    t.after(() => viewer.destroy());
    await viewer.waitForParts(5);

    const { contentType, families } = await prometheusParse(t, `${url}metrics`, 'prom:scrape');
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const value = (name: string, labels: Record<string, string> = {}) => {
      const family = families[name.replace(/_total$/, '')];
      assert.ok(family, `${name} is there: ${Object.keys(families).join(', ')}`);
      const sample = family.samples.find(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v));
      assert.ok(sample, `${name} ${JSON.stringify(labels)} has a sample`);
      return sample[2];
    };
    for (const [name, family] of Object.entries(families)) {
      assert.ok(family.help.length > 0, `${name} has help`);
      if (name.startsWith('camcast_') || name.startsWith('process_')) assert.match(family.type, /^(gauge|counter)$/, name);
    }
    // The parser names a counter without _total and its sample with it: typed as a counter.
    for (const name of ['camcast_source_frames', 'camcast_streams_opened', 'camcast_streams_sent_bytes', 'process_cpu_seconds']) {
      assert.equal(families[name]?.type, 'counter', name);
    }
    assert.equal(value('camcast_info', { source_kind: 'test' }), 1);
    assert.equal(value('camcast_source_state', { state: 'live' }), 1);
    assert.equal(value('camcast_viewers'), 1);
    assert.equal(value('camcast_source_width_pixels'), 160);
    assert.ok(value('camcast_source_frames_total') >= 5);
    assert.ok(value('camcast_streams_sent_frames_total') >= 5);
    assert.ok(value('camcast_streams_sent_bytes_total') > 0);
  });
});
