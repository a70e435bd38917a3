/**
 * Every numeric setting accepts exactly the range README documents (the "range" column, generated
 * from the same min/max validation uses): its bounds pass, one step past either is refused with an
 * error naming the field or the environment variable.
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, rangeDoc } from '../../src/config/fields.js';
import { resolveTrainConfig } from '../../src/config/train-config.js';
import { ConfigError } from '../../src/errors.js';
import { startTelemetry } from '../../src/telemetry.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NUMERIC = CONFIG_FIELDS.filter((f) => f.kind === 'number' || f.kind === 'integer');
/** Fields whose value is checked against another (rank < worldSize): keep the rest consistent. */
const context = (name: string, value: number): Record<string, number> =>
  name === 'rank' ? { worldSize: value + 1 } : {};

function refused(run: () => unknown, names: string): void {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected a refusal naming ${names}`).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toContain(names);
}

describe('numeric settings', () => {
  it('document a range for every numeric field', () => {
    for (const field of NUMERIC) expect(rangeDoc(field), field.name).toMatch(/^(integer|number)/);
  });

  for (const field of NUMERIC) {
    it(`${field.name} accepts its documented bounds and refuses one step past them, in config and environment`, () => {
      const step = field.kind === 'integer' ? 1 : 1e-9;
      const env = field.env[0];
      for (const bound of [field.min, field.max]) {
        if (bound === undefined) continue;
        const config = { outDir: '/o', ...context(field.name, bound), [field.name]: bound };
        expect((resolveTrainConfig(config, {}) as unknown as Record<string, number>)[field.name]).toBe(bound);
        if (env !== undefined)
          expect(
            (
              resolveTrainConfig(
                { outDir: '/o', ...context(field.name, bound) },
                { [env]: String(bound) },
              ) as unknown as Record<string, number>
            )[field.name],
          ).toBe(bound);
      }
      const outside = [
        ...(field.min === undefined ? [] : [field.min - step]),
        ...(field.max === undefined ? [] : [field.max + step]),
        Number.POSITIVE_INFINITY,
        ...(field.kind === 'integer' ? [(field.min ?? 0) + 0.5] : []),
      ];
      for (const value of outside) {
        refused(
          () => resolveTrainConfig({ outDir: '/o', ...context(field.name, 5), [field.name]: value }, {}),
          field.name,
        );
        if (env !== undefined)
          refused(
            () => resolveTrainConfig({ outDir: '/o', ...context(field.name, 5) }, { [env]: String(value) }),
            env,
          );
      }
    });
  }

  it('CODEX_OTLP_SHUTDOWN_TIMEOUT=0 passes validation and then crashes the start: no longer, it is refused naming the setting', async () => {
    refused(
      () => resolveTrainConfig({ outDir: '/o' }, { CODEX_OTLP_SHUTDOWN_TIMEOUT: '0' }),
      'CODEX_OTLP_SHUTDOWN_TIMEOUT',
    );
    // The shortest documented wait starts and shuts down against a collector that is not there.
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-range-'));
    try {
      const telemetry = await startTelemetry(
        { outDir, systemMetricsInterval: 0, installExitHandlers: false },
        {
          env: { CODEX_OTLP_SHUTDOWN_TIMEOUT: '0.001', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
          warn: () => undefined,
        },
      );
      telemetry.log({ loss: 1 }, { step: 0 });
      await telemetry.shutdown();
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});
