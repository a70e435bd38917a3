import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig, TRAIN_CONFIG_FIELDS, type TrainConfig } from '../../src/config/train-config.js';
import { TelemetryError } from '../../src/errors.js';

// Every real field, plus misspelled and unknown ones that must be refused by name.
const FIELDS = [...TRAIN_CONFIG_FIELDS, 'nonsenseKey', 'tensorbord'];

describe('config fuzzing', () => {
  it('any config either resolves or throws a TelemetryError that names the offending field', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(...FIELDS),
          fc.oneof(fc.anything(), fc.double(), fc.integer({ min: -10, max: 70000 })),
        ),
        (input) => {
          try {
            const resolved = resolveTrainConfig(input as TrainConfig, {});
            expect(resolved.systemMetricsInterval).toBeGreaterThanOrEqual(0);
            expect(Number.isFinite(resolved.flushInterval)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(TelemetryError);
            const named = Object.keys(input).some((key) => (error as Error).message.includes(`"${key}"`));
            expect(named, (error as Error).message).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('any environment either resolves or names the offending variable', () => {
    const VARS = [
      'CODEX_SYSTEM_METRICS_INTERVAL',
      'CODEX_TENSORBOARD',
      'OTEL_EXPORTER_PROMETHEUS_PORT',
      'RANK',
      'WORLD_SIZE',
      'WANDB_MODE',
      'CODEX_METRICS_ROTATE_BYTES',
      'CODEX_MONITORING_ENABLE_GPU',
    ];
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(...VARS),
          fc.oneof(fc.string(), fc.integer().map(String), fc.constant('-1')),
        ),
        (env) => {
          try {
            resolveTrainConfig({}, env);
          } catch (error) {
            expect(error).toBeInstanceOf(TelemetryError);
            const named =
              Object.keys(env).some((key) => (error as Error).message.includes(key)) ||
              (error as Error).message.includes('"rank"');
            expect(named, (error as Error).message).toBe(true);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
