import { defineConfig } from 'vitest/config';

/**
 * The tests that mutation testing runs: the fast, in-process tests of the byte formats, the NDJSON
 * reader, the pipeline and the sinks' core logic. Tests that spawn processes, start servers or mount
 * file systems stay out: each surviving-or-killed verdict would cost seconds, and they exercise the
 * same code these tests already reach directly. `npm run mutation` uses this file through
 * stryker.config.json.
 */
export default defineConfig({
  test: {
    include: [
      'test/exporters/codec/*.test.ts',
      'test/exporters/tensorboard/golden.test.ts',
      'test/exporters/tensorboard/scalars-record.test.ts',
      'test/exporters/tensorboard/otel-histogram.test.ts',
      'test/exporters/wandb/encoders.test.ts',
      'test/exporters/wandb/golden.test.ts',
      'test/ndjson/*.test.ts',
      'test/bridge/parse-record.test.ts',
      'test/exporters/file/append-file.test.ts',
      'test/exporters/tensorboard/exporter-direct.test.ts',
      'test/exporters/wandb/wandb-exporter.test.ts',
      'test/exporters/step-rows.test.ts',
      'test/exporters/prometheus/last-value-gauges.test.ts',
      'test/exporters/prometheus/create-reader.test.ts',
      'test/telemetry/sink-degradation.test.ts',
      'test/cli/summarize/format-pieces.test.ts',
      'test/cli/summarize/worker-split.test.ts',
      'test/hardening/property-bridge.test.ts',
    ],
    testTimeout: 30_000,
  },
});
