import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetry } from '../../src/telemetry.js';
import { readLines } from '../helpers/ndjson-lines.js';

const dirs: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-steps-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const SPECIALS = [NaN, Infinity, -Infinity, -0];

function valueFor(step: number, index: number): number {
  if (step % 997 === 0) return SPECIALS[index % SPECIALS.length] as number;
  return Math.sin(step * 7 + index) * 10 ** (index - 2);
}

describe('per-step file path', () => {
  it('writes every (step, name) of 10,000 tight-loop steps exactly once, in step order, with equal values', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {} },
    );
    const evaluation = telemetry.evaluation({ metricsFilename: 'eval.ndjson' });
    const names = ['loss', 'lr', 'throughput', 'grad_norm', 'métrique/α'];
    for (let step = 0; step < 10_000; step++) {
      const values: Record<string, number> = {};
      names.forEach((name, index) => (values[name] = valueFor(step, index)));
      expect(telemetry.log(values, { step })).toBe(true);
      if (step % 500 === 499)
        evaluation.log({ accuracy: step / 10_000, eval_loss: valueFor(step, 1) }, { step });
    }
    await telemetry.shutdown();

    const train = readLines(path.join(outDir, '.codex/metrics.ndjson'));
    expect(train).toHaveLength(50_000);
    const seen = new Set<string>();
    let previousStep = -1;
    for (const line of train) {
      const key = `${String(line.step)}:${line.name}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      expect(Number(line.step)).toBeGreaterThanOrEqual(previousStep);
      previousStep = Number(line.step);
      const expected = valueFor(Number(line.step), names.indexOf(line.name));
      expect(Object.is(line.value, expected)).toBe(true);
      expect(line.tags).toEqual({ phase: 'train' });
      expect(line.run_id).toBe(telemetry.config.runId);
    }
    const evalLines = readLines(path.join(outDir, 'eval.ndjson'));
    expect(evalLines).toHaveLength(40);
    expect(evalLines.every((line) => line.tags.phase === 'eval')).toBe(true);
    expect(evalLines.filter((line) => line.name === 'accuracy').map((line) => line.step)).toEqual(
      Array.from({ length: 20 }, (_, i) => i * 500 + 499),
    );
  });

  it('keeps int64 steps beyond 2^53 exact, up to 2^63-1', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {} },
    );
    const steps = [2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n];
    for (const step of steps) telemetry.log({ loss: 1 }, { step });
    expect(telemetry.log({ loss: 1 }, { step: 2n ** 63n })).toBe(false);
    await telemetry.shutdown();
    const lines = readLines(path.join(outDir, '.codex/metrics.ndjson'));
    expect(lines.map((line) => line.step)).toEqual(steps);
  });

  it('refuses rows logged after shutdown instead of dropping them silently', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { outDir, systemMetricsInterval: 0, installExitHandlers: false },
      { env: {} },
    );
    telemetry.log({ loss: 1 });
    await telemetry.shutdown();
    expect(telemetry.log({ loss: 2 })).toBe(false);
    expect(telemetry.rowsDroppedAfterShutdown).toBe(1);
    expect(readLines(path.join(outDir, '.codex/metrics.ndjson'))).toHaveLength(1);
  });
});
