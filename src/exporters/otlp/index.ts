/** The OTLP push sink: what the pipeline wires. */
export { createOtlpReader, OTLP_SINK } from './create-reader.js';
export type { OtlpReaderOptions } from './create-reader.js';
export { exportIntervalsFromEnv, otlpEndpointConfigured, otlpMetricsUrl } from './env.js';
export { checkOtlpExporterEnv } from './exporter-env.js';
export { createOtlpExporter } from './create-exporter.js';
export { HealthReportingExporter } from './health-reporting-exporter.js';
