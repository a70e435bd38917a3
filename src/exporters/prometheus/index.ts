/** The Prometheus sink: what the pipeline wires. */
export { createPrometheusReader, PROMETHEUS_SINK } from './create-reader.js';
export type { PrometheusReader, PrometheusReaderOptions } from './create-reader.js';
export { GaugeSeries, LastValueGauge, LastValueGauges } from '../../instruments/last-value-gauges.js';
export type { GaugeOptions } from '../../instruments/last-value-gauges.js';
export { secondsHistogramViews, STEP_DURATION_BUCKETS_SECONDS } from '../../instruments/histogram-views.js';
export {
  DEFAULT_PROMETHEUS_HOST,
  DEFAULT_PROMETHEUS_PORT,
  metricsUrl,
  portForRank,
  prometheusOptionsFromEnv,
} from './options.js';
export type { PrometheusEnvOptions } from './options.js';
