/** Registry entry for the Prometheus `/metrics` endpoint (a reader on the backend MeterProvider). */
import type { SinkDefinition } from '../../pipeline/sink-definition.js';
import { createPrometheusReader } from './create-reader.js';
import { checkHost, portForRank } from './options.js';

export const prometheusSink: SinkDefinition = {
  name: 'prometheus',
  enabled: (config) => config.prometheus,
  validate(config) {
    // A port beyond 65535 for this rank is a config error, found before any file is created.
    checkHost(config.prometheusHost);
    portForRank(config.prometheusPort, config.localRank);
  },
  async open({ config, health, info, metricProducers, httpRoutes }) {
    const prometheus = await createPrometheusReader({
      metricProducers: [...metricProducers],
      host: config.prometheusHost,
      port: config.prometheusPort,
      localRank: config.localRank,
      health,
      log: info,
      routes: httpRoutes,
    });
    return { reader: prometheus.reader, paths: { metricsUrl: prometheus.url } };
  },
};
