/** Registry entry for the Prometheus `/metrics` endpoint (a reader on the backend MeterProvider). */
import type { SinkDefinition } from '../../pipeline/sink-definition.js';
import type { ResolvedTrainConfig } from '../../config/train-config.js';
import { nodeName } from '../../runtime/resource.js';
import { createPrometheusReader } from './create-reader.js';
import { sdFilePath, type ScrapeTargetLabels } from './sd-file.js';
import { checkHost, portForRank } from './options.js';

export const prometheusSink: SinkDefinition = {
  name: 'prometheus',
  enabled: (config) => config.prometheus,
  validate(config) {
    // A port beyond 65535 for this rank is a config error, found before any file is created.
    checkHost(config.prometheusHost);
    portForRank(config.prometheusPort, config.localRank);
  },
  async open({ config, env, health, info, metricProducers, httpRoutes }) {
    const prometheus = await createPrometheusReader({
      metricProducers: [...metricProducers],
      host: config.prometheusHost,
      port: config.prometheusPort,
      localRank: config.localRank,
      health,
      log: info,
      routes: httpRoutes,
      discovery:
        config.prometheusSdFile === undefined
          ? undefined
          : {
              file: sdFilePath(config.prometheusSdFile, config.runId, config.rank),
              labels: scrapeLabels(config, env),
            },
    });
    return { reader: prometheus.reader, paths: { metricsUrl: prometheus.url } };
  },
};

function scrapeLabels(config: ResolvedTrainConfig, env: NodeJS.ProcessEnv): ScrapeTargetLabels {
  return {
    run_id: config.runId,
    rank: String(config.rank),
    local_rank: String(config.localRank),
    world_size: String(config.worldSize),
    node: nodeName(env),
  };
}
