/**
 * Regression tests for the defects of the old middle (OTel data points as a side channel, one
 * clock per sink), each named after its symptom.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readEventFile } from '../../src/exporters/tensorboard/event-file-reader.js';
import { readWandbLog } from '../../src/exporters/wandb/wandb-log-reader.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry.js';
import { readLines } from '../helpers/ndjson-lines.js';

const dirs: string[] = [];
const open: Telemetry[] = [];
afterEach(async () => {
  for (const telemetry of open.splice(0)) await telemetry.shutdown();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-pipeline-'));
  dirs.push(dir);
  return dir;
}

const BASE = { systemMetricsInterval: 0, installExitHandlers: false } as const;

function tensorboardSteps(runDir: string, phase: string): bigint[] {
  const dir = path.join(runDir, phase);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((name) =>
      readEventFile(path.join(dir, name))
        .events.filter((event) => event.values?.some((value) => value.simpleValue !== undefined))
        .map((event) => event.step),
    );
}

function wandbHistorySteps(runDir: string): string[] {
  const log = fs.readdirSync(runDir).find((name) => name.endsWith('.wandb')) as string;
  return readWandbLog(path.join(runDir, log))
    .records.filter((record) => record.type === 'history')
    .map((record) => String(record.record.history?.step?.num ?? '0'));
}

describe('the row pipeline', () => {
  it('two eval streams keep their own rows', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry({ ...BASE, outDir }, { env: {} });
    open.push(telemetry);
    const val = telemetry.evaluation({ metricsFilename: 'val.ndjson' });
    const test = telemetry.evaluation({ metricsFilename: 'test.ndjson' });
    for (let step = 0; step < 5; step++) {
      val.log({ val_loss: step }, { step });
      test.log({ test_acc: step / 10 }, { step });
    }
    await telemetry.shutdown();
    const valNames = readLines(path.join(outDir, 'val.ndjson')).map((line) => line.name);
    const testNames = readLines(path.join(outDir, 'test.ndjson')).map((line) => line.name);
    expect(valNames).toEqual(Array(5).fill('val_loss'));
    expect(testNames).toEqual(Array(5).fill('test_acc'));
  });

  it('commit reaches NDJSON, TensorBoard and W&B at once, without waiting for the flush clock (flushInterval 60)', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { ...BASE, outDir, flushInterval: 60, tensorboard: true, wandbEnable: true, runName: 'c' },
      { env: {} },
    );
    open.push(telemetry);
    telemetry.log({ loss: 1 }, { step: 0 });
    telemetry.log({ loss: 0.5 }, { step: 1, commit: true });
    // Waits for the condition, not a fixed time: on an idle machine this takes a few milliseconds
    // (the flush runs on the next tick); a loaded one may take longer, and the 60 s clock is far off.
    const seen = (): boolean =>
      fs.existsSync(path.join(outDir, '.codex/metrics.ndjson')) &&
      readLines(path.join(outDir, '.codex/metrics.ndjson')).length === 2 &&
      tensorboardSteps(path.join(outDir, 'runs/c'), 'train').length === 2 &&
      wandbHistorySteps(telemetry.paths.wandbRunDir as string).length === 2;
    const deadline = Date.now() + 20_000;
    while (!seen() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(readLines(path.join(outDir, '.codex/metrics.ndjson')).map((line) => line.step)).toEqual([0, 1]);
    expect(tensorboardSteps(path.join(outDir, 'runs/c'), 'train')).toEqual([0n, 1n]);
    expect(wandbHistorySteps(telemetry.paths.wandbRunDir as string)).toEqual(['0', '1']);
  });

  it('with flushInterval 0 runs no timer, and a process exits on its own after shutdown()', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      { ...BASE, outDir, flushInterval: 0, tensorboard: true },
      { env: {} },
    );
    expect(telemetry.hasFlushTimer).toBe(false);
    telemetry.log({ loss: 1 });
    await telemetry.shutdown();
    // A child process that never calls process.exit(): it must end by itself, with its rows on disk.
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { startTelemetry } from ${JSON.stringify(path.resolve('dist/src/index.js'))};
         const t = await startTelemetry({ outDir: process.argv[1], flushInterval: 0, systemMetricsInterval: 0,
           tensorboard: true, wandbEnable: true, prometheus: false }, { env: {} });
         for (let step = 0; step < 3; step++) t.log({ loss: step });
         await t.shutdown();
         const left = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout');
         process.stdout.write(JSON.stringify(left));`,
        outDir,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(child.error).toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual([]);
    expect(
      readLines(path.join(outDir, '.codex/metrics.ndjson'))
        .slice(-3)
        .map((line) => line.step),
    ).toEqual([0, 1, 2]);
  });

  it('the default step carries past 2^53 - 1 in log() and in eval streams', async () => {
    const outDir = tmpDir();
    const warnings: string[] = [];
    const telemetry = await startTelemetry(
      { ...BASE, outDir },
      { env: {}, warn: (message) => warnings.push(message) },
    );
    open.push(telemetry);
    const max = Number.MAX_SAFE_INTEGER;
    expect(telemetry.log({ loss: 1 }, { step: max })).toBe(true);
    expect(telemetry.log({ loss: 2 })).toBe(true);
    expect(telemetry.log({ loss: 3 })).toBe(true);
    const evaluation = telemetry.evaluation({ metricsFilename: 'eval.ndjson' });
    expect(evaluation.log({ acc: 1 }, { step: max })).toBe(true);
    expect(evaluation.log({ acc: 2 })).toBe(true);
    expect(telemetry.log({ loss: 4 }, { step: 2n ** 63n - 1n })).toBe(true);
    expect(telemetry.log({ loss: 5 })).toBe(false);
    expect(warnings).toEqual([expect.stringContaining('no default step left past the int64 maximum')]);
    await telemetry.shutdown();
    const raw = (file: string): string[] =>
      fs
        .readFileSync(path.join(outDir, file), 'utf8')
        .trim()
        .split('\n')
        .map((line) => /"step":(\d+)/.exec(line)?.[1] ?? '');
    expect(raw('.codex/metrics.ndjson')).toEqual([
      String(max),
      String(2n ** 53n),
      String(2n ** 53n + 1n),
      String(2n ** 63n - 1n),
    ]);
    expect(raw('eval.ndjson')).toEqual([String(max), String(2n ** 53n)]);
  });

  it('a start that fails on config opens no file at all', async () => {
    const outDir = tmpDir();
    await expect(
      startTelemetry(
        {
          ...BASE,
          outDir,
          tensorboard: true,
          wandbEnable: true,
          prometheus: true,
          prometheusPort: 65535,
          localRank: 1,
        },
        { env: {} },
      ),
    ).rejects.toThrow(/port/);
    expect(fs.readdirSync(outDir)).toEqual([]);
  });

  it('a sink that fails to open closes the sinks opened before it, leaving whole files', async () => {
    const outDir = tmpDir();
    const { DEFAULT_SINKS } = await import('../../src/exporters/registry.js');
    const broken = {
      name: 'broken',
      enabled: () => true,
      open: () => {
        throw new Error('cannot open the broken sink');
      },
    };
    await expect(
      startTelemetry(
        { ...BASE, outDir, wandbEnable: true, runId: 'abcd1234' },
        { env: {}, sinks: [...DEFAULT_SINKS, broken] },
      ),
    ).rejects.toThrow('cannot open the broken sink');
    const runDir = path.join(
      outDir,
      'wandb',
      fs.readdirSync(path.join(outDir, 'wandb')).find((name) => name.startsWith('offline-run-')) as string,
    );
    const types = readWandbLog(path.join(runDir, 'run-abcd1234.wandb')).records.map((record) => record.type);
    expect(types.slice(-2)).toEqual(['exit', 'final']);
  });
});
