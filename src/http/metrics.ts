import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Broadcaster } from '../broadcaster.js';
import type { SourceState } from '../source-runner.js';
import { NO_CACHE_HEADERS } from './responses.js';
import type { StreamTotals } from './stream-endpoint.js';

export interface StreamMetricsInput {
  readonly broadcaster: Broadcaster;
  /** Open MJPEG streams. */
  readonly viewerCount: () => number;
  readonly totals: () => StreamTotals;
  /** Snapshot requests so far. */
  readonly snapshots: () => number;
  readonly version: string;
  /** Constant labels on every series, to tell this capture's from another's (metricsLabels). */
  readonly labels?: Readonly<Record<string, string>>;
}

const INFO_LABELS = ['version', 'source_kind'] as const;
const STATE_LABELS = ['state'] as const;
/** The labels camcast's own metrics use, which a metricsLabels name must not repeat. */
export const METRIC_LABEL_NAMES: readonly string[] = [...INFO_LABELS, ...STATE_LABELS];

/** Every state, checked by the compiler: a new state cannot be left out of the metric. */
const STATES = Object.keys({ stopped: 1, starting: 1, live: 1, retrying: 1, ended: 1 } satisfies Record<SourceState, 1>) as SourceState[];

/**
 * GET /metrics: one capture and its viewers in Prometheus' text format, for the dashboards and
 * alerts of the people who run cameras unattended (a dead printer camera, a viewer count that
 * keeps growing). Every value is read when Prometheus scrapes, from counts the broadcaster and
 * the viewers keep anyway, so the metrics add no work per frame or per write.
 *
 * A registry of its own, never prom-client's global one, and camcast_* names only: two captures
 * in one process, or an app that merges this registry into its own, must not collide.
 */
export class StreamMetrics {
  readonly registry = new Registry();

  constructor({ broadcaster, viewerCount, totals, snapshots, version, labels = {} }: StreamMetricsInput) {
    this.registry.setDefaultLabels({ ...labels });
    const registers = [this.registry];
    const { gauge, counter } = scraped(this.registry);
    const status = oncePerTick(() => broadcaster.status());
    const streams = oncePerTick(totals);
    const kind = broadcaster.source.kind;

    new Gauge({
      name: 'camcast_info',
      help: 'Always 1; the labels say which camcast and which kind of source.',
      labelNames: INFO_LABELS,
      registers,
      collect() {
        this.set({ version, source_kind: kind }, 1);
      },
    });
    new Gauge({
      name: 'camcast_source_state',
      help: "1 for the source's current state, 0 for the others.",
      labelNames: STATE_LABELS,
      registers,
      collect() {
        for (const state of STATES) this.set({ state }, state === status().state ? 1 : 0);
      },
    });
    counter('camcast_source_restarts_total', 'Times the source was restarted after failing or stalling.', () => status().restarts);
    counter('camcast_source_frames_total', 'Frames the source delivered ("no signal" pictures not counted).', () => status().frames);
    gauge('camcast_source_frames_per_second', 'Frames per second the source delivered over the last 2 seconds.', () => status().fps);
    gauge(
      'camcast_source_last_frame_timestamp_seconds',
      'When the newest real frame was captured, in seconds since the epoch; 0 before the first.',
      () => (status().lastFrameAt ?? 0) / 1000,
    );
    gauge('camcast_source_width_pixels', 'Width of the newest real frame; 0 before the first.', () => status().width ?? 0);
    gauge('camcast_source_height_pixels', 'Height of the newest real frame; 0 before the first.', () => status().height ?? 0);

    gauge('camcast_viewers', 'Open MJPEG streams.', viewerCount);
    counter('camcast_streams_opened_total', 'MJPEG streams opened.', () => streams().opened);
    counter('camcast_streams_refused_total', 'MJPEG requests answered 503 because every viewer slot was taken.', () => streams().refused);
    counter('camcast_streams_timed_out_total', 'MJPEG streams cut because the viewer stopped reading.', () => streams().timedOut);
    counter('camcast_streams_sent_frames_total', 'Frames written to MJPEG streams.', () => streams().framesSent);
    counter(
      'camcast_streams_dropped_frames_total',
      'Frames skipped for viewers slower than the source, or by a server past its limit (each viewer gets the newest frame instead).',
      () => streams().framesDropped,
    );
    counter('camcast_streams_sent_bytes_total', 'Bytes of MJPEG streams (response headers included) handed to their connections.', () => streams().bytesSent);
    counter('camcast_snapshots_total', 'Snapshot requests.', snapshots);
  }
}

/** Answers with the exposition text of `registry`; rejects if a value cannot be read. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, registry: Registry): Promise<void> {
  const body = Buffer.from(await registry.metrics());
  // The scraper may have given up meanwhile.
  if (res.destroyed) return;
  res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': body.length, ...NO_CACHE_HEADERS });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * The process metrics the Prometheus conventions name, in a registry of their own, for the page
 * of a server that speaks for its process (StreamServer's /metrics). A LiveStream's registry
 * never has them: an app that merges it into one with prom-client's default metrics would
 * collide on these names. Hand-made rather than prom-client's collectDefaultMetrics(), which
 * also starts an event-loop monitor and a GC observer that nothing could ever stop.
 */
export function processMetrics(): Registry {
  const registry = new Registry();
  const { gauge, counter } = scraped(registry);
  counter('process_cpu_user_seconds_total', 'User CPU time spent in seconds.', () => process.cpuUsage().user / 1e6);
  counter('process_cpu_system_seconds_total', 'System CPU time spent in seconds.', () => process.cpuUsage().system / 1e6);
  counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  });
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => performance.timeOrigin / 1000);
  return registry;
}

/** Metrics whose values live elsewhere and are read when Prometheus scrapes. */
function scraped(registry: Registry) {
  const registers = [registry];
  return {
    gauge: (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      }),
    // A count kept elsewhere: each scrape sets the counter to it (reset, then inc).
    counter: (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      }),
  };
}

/**
 * A value read once per scrape however many metrics use it: prom-client runs every collect() of
 * one scrape in the same tick, and the totals walk every viewer.
 */
function oncePerTick<T>(read: () => T): () => T {
  let value: { readonly current: T } | undefined;
  return () => {
    if (!value) {
      value = { current: read() };
      queueMicrotask(() => (value = undefined));
    }
    return value.current;
  };
}
