import { AggregatorRegistry, type PrometheusContentType } from 'prom-client';
import { CamcastError } from './errors.js';
import { serveMetrics } from './http/metrics.js';
import { answerFailure, refusedMethod, sendError } from './http/responses.js';
import { LiveStream, mergeView, type NodeHandler } from './live-stream.js';

/**
 * `app.get('/metrics', mergedMetrics([front, back]))`: the camcast_* metrics of several streams
 * on one page, each family once (HELP and TYPE written once, as Prometheus' parser requires),
 * the streams told apart by their metricsLabels. `Registry.merge()` cannot do this: it refuses
 * a name registered twice.
 *
 * prom-client's aggregate() groups the values of a family by their whole label set, default
 * labels included, and sums only values whose labels are equal: so streams with the same
 * metricsLabels are refused here, where summing would go unseen.
 */
export function mergedMetrics(streams: readonly LiveStream[]): NodeHandler {
  const list = checkStreams(streams);
  return (req, res) => {
    if (refusedMethod(req, res)) return;
    if (list.some((live) => live[mergeView]().closed)) {
      sendError(res, new CamcastError('CLOSED', 'a stream of this page was closed'));
      return;
    }
    // The first stream's logger speaks for the page: one failure, logged once.
    void (async () => {
      const merged = AggregatorRegistry.aggregate<PrometheusContentType>(await Promise.all(list.map((live) => live.metricsRegistry.getMetricsAsJSON())));
      await serveMetrics(req, res, merged);
    })().catch((error: unknown) => answerFailure(list[0]![mergeView]().logger, req, res, error));
  };
}

/** A copy of `streams`, so the page does not change with the caller's array. */
function checkStreams(streams: readonly LiveStream[]): readonly LiveStream[] {
  const usage = "mergedMetrics() takes a list of streams with different metricsLabels, e.g. mergedMetrics([stream(a, { metricsLabels: { camera: 'front' } }), stream(b, { metricsLabels: { camera: 'back' } })])";
  if (!Array.isArray(streams) || streams.length === 0) throw new CamcastError('BAD_OPTION', `${usage} (got ${Array.isArray(streams) ? 'an empty list' : 'no list'})`);
  const seen = new Map<string, number>();
  (streams as readonly unknown[]).forEach((live, i) => {
    if (!(live instanceof LiveStream)) throw new CamcastError('BAD_OPTION', `${usage} (item ${i} is not the object stream() returns)`);
    const labels = live[mergeView]().labels;
    const key = JSON.stringify(Object.keys(labels).sort().map((name) => [name, labels[name]]));
    const twin = seen.get(key);
    if (twin !== undefined) {
      throw new CamcastError('BAD_OPTION', `${usage} (items ${twin} and ${i} both have metricsLabels ${key === '[]' ? 'unset' : JSON.stringify(labels)}, so their values would be added up)`);
    }
    seen.set(key, i);
  });
  return [...streams];
}
