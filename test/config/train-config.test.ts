import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  resolveEvaluationConfig,
  resolveTrainConfig,
  type TrainConfig,
} from '../../src/config/train-config.js';
import { ConfigError, TelemetryError } from '../../src/errors.js';

describe('TrainConfig', () => {
  it('applies documented defaults relative to outDir', () => {
    const config = resolveTrainConfig({ outDir: '/tmp/run' }, {});
    expect(config.metricsOut).toBe('/tmp/run/.codex/metrics.ndjson');
    expect(config.evalMetricsOut).toBe('/tmp/run/.codex/eval_metrics.ndjson');
    expect(config.tensorboardDir).toBe('/tmp/run/runs');
    expect(config.wandbDir).toBe('/tmp/run/wandb');
    expect(config.systemMetricsInterval).toBe(10);
    expect(config.prometheusPort).toBe(9464);
    expect(config.prometheusHost).toBe('127.0.0.1');
    expect(config.runId).toMatch(/^[a-z0-9]{8}$/);
    expect(config.tensorboard).toBe(false);
    expect(config.wandbEnable).toBe(false);
  });

  it('reads CODEX_*, OTEL_*, WANDB_* and rank variables, with explicit config winning', () => {
    const env = {
      CODEX_METRICS_OUT: 'm.ndjson',
      CODEX_SYSTEM_METRICS_INTERVAL: '0.2',
      CODEX_TENSORBOARD: '1',
      WANDB_DIR: 'w',
      WANDB_PROJECT: 'proj',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      OTEL_SERVICE_NAME: 'trainer',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      RANK: '3',
      LOCAL_RANK: '1',
      WORLD_SIZE: '4',
      WANDB_RUN_ID: 'abcd1234',
    };
    const config = resolveTrainConfig({ outDir: '/o', systemMetricsInterval: 5 }, env);
    expect(config.metricsOut).toBe('/o/m.rank3.ndjson'); // rank 3 of 4 gets its own file
    expect(config.systemMetricsInterval).toBe(5);
    expect(config.tensorboard).toBe(true);
    expect(config.wandbDir).toBe('/o/w');
    expect(config.wandbProject).toBe('proj');
    expect(config.prometheusPort).toBe(0);
    expect(config.serviceName).toBe('trainer');
    expect(config.otlp).toBe(true);
    expect([config.rank, config.localRank, config.worldSize]).toEqual([3, 1, 4]);
    expect(config.runId).toBe('abcd1234');
  });

  it('accepts the runbook snake_case spellings', () => {
    const config = resolveTrainConfig(
      {
        tensorboard_dir: 'tb',
        wandb_enable: true,
        metrics_out: 'x.ndjson',
        system_metrics_interval: 0,
      } as TrainConfig,
      {},
    );
    expect(path.basename(config.tensorboardDir)).toBe('tb');
    expect(config.wandbEnable).toBe(true);
    expect(config.systemMetricsInterval).toBe(0);
  });

  it('turns W&B off when WANDB_MODE=disabled even if wandbEnable is true', () => {
    expect(resolveTrainConfig({ wandbEnable: true }, { WANDB_MODE: 'disabled' }).wandbEnable).toBe(false);
    expect(resolveTrainConfig({ wandbEnable: true }, { WANDB_MODE: 'offline' }).wandbEnable).toBe(true);
  });

  it('names the field and the bad value in every validation error', () => {
    const cases: Array<[TrainConfig, string]> = [
      [{ systemMetricsInterval: -1 }, 'systemMetricsInterval'],
      [{ systemMetricsInterval: NaN }, 'systemMetricsInterval'],
      [{ prometheusPort: 70000 }, 'prometheusPort'],
      [{ tensorboard: 'yes' as unknown as boolean }, 'tensorboard'],
      [{ metricsOut: '' }, 'metricsOut'],
      [{ runId: 'has space' }, 'runId'],
      [{ rank: 2, worldSize: 2 }, 'rank'],
    ];
    for (const [input, field] of cases) {
      let caught: unknown;
      try {
        resolveTrainConfig(input, {});
      } catch (error) {
        caught = error;
      }
      expect(caught, field).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).field).toBe(field);
      expect((caught as Error).message).toContain(`"${field}"`);
    }
  });

  it('rejects unknown keys and bad environment values, naming them', () => {
    expect(() => resolveTrainConfig({ tensorbord: true } as TrainConfig, {})).toThrow(
      /unknown config field "tensorbord"/,
    );
    try {
      resolveTrainConfig({}, { CODEX_SYSTEM_METRICS_INTERVAL: 'fast' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TelemetryError);
      expect((error as Error).message).toContain('CODEX_SYSTEM_METRICS_INTERVAL');
      expect((error as Error).message).toContain('"fast"');
    }
    expect(() => resolveTrainConfig({}, { CODEX_MONITORING_ENABLE_GPU: 'maybe' })).toThrow(
      /CODEX_MONITORING_ENABLE_GPU/,
    );
  });
});

describe('EvaluationConfig', () => {
  it('puts the eval stream at metricsFilename, CODEX_EVAL_METRICS_OUT, or the default', () => {
    const train = resolveTrainConfig({ outDir: '/o' }, {});
    expect(resolveEvaluationConfig({ metricsFilename: 'e.ndjson' }, train, {}).metricsFilename).toBe(
      '/o/e.ndjson',
    );
    expect(resolveEvaluationConfig({}, train, { CODEX_EVAL_METRICS_OUT: 'x.ndjson' }).metricsFilename).toBe(
      '/o/x.ndjson',
    );
    expect(resolveEvaluationConfig({}, train, {}).metricsFilename).toBe('/o/.codex/eval_metrics.ndjson');
    expect(() => resolveEvaluationConfig({ metricsFile: 'x' } as never, train, {})).toThrow(/metricsFile/);
  });
});

describe('several ranks of one job', () => {
  it('give rank N > 0 its own files, its own TensorBoard run and no W&B run', () => {
    const env = { RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1', CODEX_RUN_ID: 'job00001' };
    const config = resolveTrainConfig({ outDir: '/o', wandbEnable: true, tensorboard: true }, env);
    expect(config.metricsOut).toBe('/o/.codex/metrics.rank3.ndjson');
    expect(config.evalMetricsOut).toBe('/o/.codex/eval_metrics.rank3.ndjson');
    expect(config.runName).toBe('run-job00001-rank3');
    expect(config.wandbEnable).toBe(false);
    expect(resolveEvaluationConfig({ metricsFilename: 'e.ndjson' }, config, env).metricsFilename).toBe(
      '/o/e.rank3.ndjson',
    );
    const rank0 = resolveTrainConfig({ outDir: '/o', wandbEnable: true }, { ...env, RANK: '0' });
    expect([rank0.metricsOut, rank0.wandbEnable]).toEqual(['/o/.codex/metrics.ndjson', true]);
  });
});
