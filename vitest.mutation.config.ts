import { defineConfig } from 'vitest/config';

/**
 * The tests mutation testing runs (`npm run mutation`, through stryker.config.json): the fast,
 * in-process tests of the byte formats, the NDJSON reader, sink health and summarize's statistics.
 * Tests that spawn processes, start servers or write 10,000 steps stay out: on 2 cores each
 * verdict would cost seconds, and the tests listed here reach the same code directly.
 */
export default defineConfig({
  test: {
    include: [
      'test/exporters/codec/*.test.ts',
      'test/exporters/tensorboard/golden.test.ts',
      'test/exporters/tensorboard/scalars-record.test.ts',
      'test/exporters/tensorboard/event-codec.test.ts',
      'test/exporters/tensorboard/otel-histogram.test.ts',
      'test/exporters/wandb/encoders.test.ts',
      'test/exporters/wandb/golden.test.ts',
      'test/exporters/wandb/history-rows.test.ts',
      'test/exporters/wandb/value-json.test.ts',
      'test/exporters/wandb/log-framing.test.ts',
      'test/exporters/wandb/run-encoder.test.ts',
      'test/exporters/wandb/timestamp.test.ts',
      'test/exporters/wandb/log-scan.test.ts',
      'test/exporters/wandb/record-codec.test.ts',
      'test/exporters/ndjson/encode-line.test.ts',
      'test/ndjson/*.test.ts',
      'test/bridge/parse-record.test.ts',
      'test/exporters/file/append-file.test.ts',
      'test/exporters/file/rotation-policy.test.ts',
      'test/exporters/ndjson/rotation-lossless.test.ts',
      'test/exporters/ndjson/rotation-failures.test.ts',
      'test/telemetry/sink-degradation.test.ts',
      'test/pipeline/*.test.ts',
      'test/cli/summarize/aggregator.test.ts',
      'test/cli/summarize/format-pieces.test.ts',
    ],
    testTimeout: 30_000,
    // One module graph for every file: mutants are switched on at run time, not by reloading
    // modules, so re-importing each file's modules for every mutant only costs time (most of it).
    isolate: false,
  },
});
