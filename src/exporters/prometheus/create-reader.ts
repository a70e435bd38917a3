/**
 * Opens the Prometheus endpoint for one rank. A port that cannot be bound (another rank or process
 * holds it, a privileged port, an address not on this host) disables this sink with one warning
 * through SinkHealth: training never crashes because a scrape endpoint could not open.
 */
import type { MetricProducer, MetricReader } from '@opentelemetry/sdk-metrics';
import { settingName } from '../../config/setting-name.js';
import { errorText } from '../../errors.js';
import type { SinkHealth } from '../../health.js';
import { PrometheusEndpoint, type HttpRoutes } from './endpoint.js';
import { removeSdEntry, scrapeAddress, writeSdEntry, type ScrapeTargetLabels } from './sd-file.js';
import {
  checkHost,
  DEFAULT_PROMETHEUS_HOST,
  DEFAULT_PROMETHEUS_PORT,
  metricsUrl,
  portForRank,
} from './options.js';

export const PROMETHEUS_SINK = 'prometheus';

export interface PrometheusReaderOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 9464; 0 = any free port (the chosen one is logged and returned). */
  port?: number;
  /** Added to a non-zero port so ranks on one host do not collide. Default 0. */
  localRank?: number;
  /** Keep OTel scope labels on every series. Default false. */
  withScopeInfo?: boolean;
  health: SinkHealth;
  /** Extra sources merged into every scrape (e.g. LastValueGauges for training scalars). */
  metricProducers?: MetricProducer[];
  /** More routes served beside /metrics (the dashboard). */
  routes?: HttpRoutes;
  /** Receives `metrics: http://HOST:PORT/metrics` once the endpoint listens. */
  log?: (line: string) => void;
  /** Write a Prometheus file_sd entry for this endpoint here once it listens; removed at shutdown. */
  discovery?: { file: string; labels: ScrapeTargetLabels };
}

export interface PrometheusReader {
  /** Pass to the MeterProvider's `readers`; undefined when the endpoint could not open. */
  reader: MetricReader | undefined;
  url: string | undefined;
  port: number | undefined;
}

/** Validates the options (throws ConfigError), then listens; never rejects for socket errors. */
export async function createPrometheusReader(options: PrometheusReaderOptions): Promise<PrometheusReader> {
  const host = checkHost(options.host ?? DEFAULT_PROMETHEUS_HOST);
  const requestedPort = portForRank(options.port ?? DEFAULT_PROMETHEUS_PORT, options.localRank ?? 0);
  const { health } = options;
  health.register(PROMETHEUS_SINK);

  const endpoint = new PrometheusEndpoint({
    withScopeInfo: options.withScopeInfo ?? false,
    metricProducers: options.metricProducers,
    routes: options.routes,
  });
  const result = await endpoint.listen(host, requestedPort);
  if (!result.ok) {
    const code = result.error.code ?? result.error.name;
    health.markDown(
      PROMETHEUS_SINK,
      `cannot serve /metrics on ${host}:${requestedPort} (${code}: ${result.error.message}); ` +
        `choose another port with ${settingName('prometheusPort')} (0 = any free port)`,
    );
    await endpoint.shutdown();
    return { reader: undefined, url: undefined, port: undefined };
  }
  endpoint.onServerError((error) => {
    health.markDown(
      PROMETHEUS_SINK,
      `/metrics server on ${host}:${result.port} failed (${error.code ?? error.name})`,
    );
  });
  const url = metricsUrl(host, result.port);
  options.log?.(`metrics: ${url}`);
  if (options.discovery !== undefined)
    await advertise(endpoint, host, result.port, options.discovery, health);
  return { reader: endpoint, url, port: result.port };
}

/**
 * Writes the file_sd entry and removes it when the endpoint closes. A folder that cannot be written
 * costs the entry (one warning), not the endpoint: /metrics still serves, training goes on.
 */
async function advertise(
  endpoint: PrometheusEndpoint,
  host: string,
  port: number,
  discovery: { file: string; labels: ScrapeTargetLabels },
  health: SinkHealth,
): Promise<void> {
  const address = scrapeAddress(host, port, discovery.labels.node);
  try {
    await writeSdEntry(discovery.file, address, discovery.labels);
  } catch (error) {
    health.warn(
      `cannot write the Prometheus file_sd entry ${discovery.file} (${errorText(error)}); ` +
        `this rank is not discovered: check prometheusSdFile / --prometheus-sd-file`,
    );
    return;
  }
  endpoint.onClosed(async () => {
    try {
      await removeSdEntry(discovery.file);
    } catch (error) {
      health.warn(`cannot remove the Prometheus file_sd entry ${discovery.file} (${errorText(error)})`);
    }
  });
}
