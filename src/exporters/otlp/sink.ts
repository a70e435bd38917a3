/** Registry entry for OTLP push (http/protobuf, gRPC or http/json) to a collector (a reader on the backend MeterProvider). */
import type { SinkDefinition } from '../../pipeline/sink-definition.js';
import { exportIntervalsFromEnv } from './env.js';
import { checkOtlpExporterEnv } from './exporter-env.js';
import { createOtlpReader } from './create-reader.js';

export const otlpSink: SinkDefinition = {
  name: 'otlp',
  enabled: (config) => config.otlp,
  validate(_config, env) {
    exportIntervalsFromEnv(env);
    checkOtlpExporterEnv(env);
  },
  open({ config, env, health, metricProducers }) {
    return {
      reader: createOtlpReader({
        env,
        enabled: true,
        health,
        protocol: config.otlpProtocol,
        metricProducers: [...metricProducers],
        timeoutMillis: Math.round(config.otlpShutdownTimeout * 1000),
      }),
    };
  },
};
