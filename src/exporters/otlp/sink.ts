/** Registry entry for OTLP/HTTP push to a collector (a reader on the backend MeterProvider). */
import type { SinkDefinition } from '../../pipeline/sink-definition.js';
import { exportIntervalsFromEnv } from './env.js';
import { createOtlpReader } from './create-reader.js';

export const otlpSink: SinkDefinition = {
  name: 'otlp',
  enabled: (config) => config.otlp,
  validate(_config, env) {
    exportIntervalsFromEnv(env);
  },
  open({ env, health, metricProducers }) {
    return {
      reader: createOtlpReader({ env, enabled: true, health, metricProducers: [...metricProducers] }),
    };
  },
};
