/**
 * What a dashboard sees of sink health: `codex_sink_up{sink}` as served on Prometheus' /metrics and
 * as pushed over OTLP. Degradation tests read the exported gauge through both, not the in-process
 * `health` object, so a gauge stuck at 1 for a dead sink fails them.
 */
import { vi } from 'vitest';
import { startTelemetry, type Telemetry } from '../../src/telemetry.js';
import type { TrainConfig } from '../../src/config/train-config.js';
import { attributesOf, metricsByName, OtlpReceiver } from '../exporters/otlp/otlp-receiver.js';

export type SinkUp = Record<string, number>;

export interface ExportedHealth {
  telemetry: Telemetry;
  /** `codex_sink_up` by sink, scraped from /metrics now. */
  scrape(): Promise<SinkUp>;
  /** `codex_sink_up` by sink from the newest OTLP export (after `shutdown`, the final one). */
  lastPushed(): SinkUp;
  /** Shuts telemetry down (which pushes a last OTLP export) and stops the receiver. */
  close(): Promise<void>;
}

/**
 * Starts telemetry with Prometheus on an ephemeral port and OTLP pushing to a loopback receiver.
 * The OTLP exporter reads its endpoint from `process.env`, hence the stubbed variable.
 */
export async function startWithExportedHealth(
  config: TrainConfig,
  options: { warn: (message: string) => void },
): Promise<ExportedHealth> {
  const receiver = await OtlpReceiver.start();
  vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', `${receiver.url}/v1/metrics`);
  const info: string[] = [];
  let telemetry: Telemetry;
  try {
    telemetry = await startTelemetry(
      { ...config, prometheus: true, prometheusPort: 0, otlp: true },
      { env: {}, warn: options.warn, info: (line) => info.push(line) },
    );
  } catch (error) {
    vi.unstubAllEnvs();
    await receiver.close();
    throw error;
  }
  const url = /^metrics: (http:\/\/\S+\/metrics)$/.exec(
    info.find((l) => l.startsWith('metrics: ')) ?? '',
  )?.[1];
  if (url === undefined) throw new Error(`telemetry printed no metrics URL: ${JSON.stringify(info)}`);
  let closed = false;
  return {
    telemetry,
    async scrape() {
      const text = await (await fetch(url)).text();
      const up: SinkUp = {};
      for (const match of text.matchAll(/^codex_sink_up\{[^}]*sink="([^"]+)"[^}]*\} (\S+)/gm)) {
        up[match[1] as string] = Number(match[2]);
      }
      return up;
    },
    lastPushed() {
      for (const { body } of [...receiver.received].reverse()) {
        const metric = metricsByName(body).get('codex.sink.up');
        if (metric?.gauge === undefined) continue;
        const up: SinkUp = {};
        for (const point of metric.gauge.dataPoints) {
          up[String(attributesOf(point.attributes).sink)] = Number(point.asInt ?? point.asDouble);
        }
        return up;
      }
      throw new Error(`no OTLP export carried codex.sink.up (${receiver.received.length} exports)`);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await telemetry.shutdown();
      } finally {
        vi.unstubAllEnvs();
        await receiver.close();
      }
    },
  };
}
