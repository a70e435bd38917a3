import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readEventFile } from '../../helpers/checked-readers.js';
import { startTelemetry } from '../../../src/telemetry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-tb-'));
  dirs.push(dir);
  return dir;
}
function eventFiles(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((name) => name.includes('tfevents'))
        .sort()
        .map((name) => path.join(dir, name))
    : [];
}
function points(dir: string): Array<{ step: bigint; tag: string; value: number; wallTime: number }> {
  return eventFiles(dir).flatMap((file) =>
    readEventFile(file).events.flatMap((event) =>
      (event.values ?? [])
        .filter((value) => value.simpleValue !== undefined)
        .map((value) => ({
          step: event.step,
          tag: value.tag,
          value: value.simpleValue as number,
          wallTime: event.wallTime,
        })),
    ),
  );
}
const f32 = (value: number): number => Math.fround(value);

describe('TensorBoard exporter', () => {
  it('writes 10,000 train steps and an eval stream as train/ and eval/ runs that read back point for point', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      {
        outDir,
        tensorboard: true,
        runName: 'exp1',
        ndjson: false,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        config: { lr: 3e-4 },
      },
      { env: {} },
    );
    const evaluation = telemetry.evaluation();
    for (let step = 0; step < 10_000; step++) {
      telemetry.log({ loss: 1 / (step + 1), lr: step % 3 === 0 ? NaN : step * 1e-7 }, { step });
      if (step % 1000 === 999) evaluation.log({ accuracy: step / 1e4 }, { step });
    }
    telemetry.log({ loss: 1 }, { step: 2n ** 63n - 1n });
    await telemetry.shutdown();

    const run = path.join(outDir, 'runs/exp1');
    const train = points(path.join(run, 'train'));
    expect(train).toHaveLength(20_001);
    for (let step = 0; step < 10_000; step++) {
      const loss = train[step * 2] as { step: bigint; tag: string; value: number };
      const lr = train[step * 2 + 1] as { step: bigint; tag: string; value: number };
      expect([loss.step, loss.tag, loss.value]).toEqual([BigInt(step), 'loss', f32(1 / (step + 1))]);
      expect(lr.tag).toBe('lr');
      expect(Object.is(lr.value, step % 3 === 0 ? NaN : f32(step * 1e-7))).toBe(true);
    }
    expect(train.at(-1)?.step).toBe(2n ** 63n - 1n);
    const evalPoints = points(path.join(run, 'eval'));
    expect(evalPoints.map((p) => [p.step, p.tag])).toEqual(
      Array.from({ length: 10 }, (_, i) => [BigInt(i * 1000 + 999), 'accuracy']),
    );
    const first = readEventFile(eventFiles(path.join(run, 'train'))[0] as string).events;
    expect(first[0]?.fileVersion).toBe('brain.Event:2');
    expect(first[1]?.values?.[0]?.tag).toBe('config/text_summary');
    expect(path.basename(eventFiles(path.join(run, 'train'))[0] as string)).toMatch(
      /^events\.out\.tfevents\.\d{10}\.[^.]+(\.[^.]+)*\.\d+\.\d{6}$/,
    );
    // Step-time histogram from the OTel pipeline, as a TensorBoard histogram.
    const histos = eventFiles(path.join(run, 'train'))
      .flatMap((file) => readEventFile(file).events)
      .flatMap((event) => event.values ?? [])
      .filter((value) => value.histo);
    // 10,001 train steps make 10,000 step intervals; each histogram holds those of one batch
    // (a batch is dispatched every 1024 rows, even in this loop that never yields).
    expect(histos.length).toBeGreaterThan(0);
    expect(new Set(histos.map((value) => value.tag))).toEqual(new Set(['codex.step.duration']));
    expect(histos.reduce((sum, value) => sum + (value.histo?.num ?? 0), 0)).toBe(10_000);
    const last = histos.at(-1)?.histo;
    expect(last?.min).toBeGreaterThanOrEqual(0);
    expect(last?.max).toBeGreaterThanOrEqual(last?.min ?? Infinity);
  });

  it('rotates to new event files past tensorboardRotateBytes, with names that sort in write order', async () => {
    const outDir = tmpDir();
    const telemetry = await startTelemetry(
      {
        outDir,
        tensorboard: true,
        runName: 'rot',
        ndjson: false,
        systemMetricsInterval: 0,
        installExitHandlers: false,
        tensorboardRotateBytes: 4096,
        flushInterval: 0.01,
      },
      { env: {} },
    );
    for (let step = 0; step < 3000; step++) {
      telemetry.log({ loss: step }, { step });
      if (step % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await telemetry.shutdown();
    const files = eventFiles(path.join(outDir, 'runs/rot/train'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) expect(readEventFile(file).events[0]?.fileVersion).toBe('brain.Event:2');
    expect(points(path.join(outDir, 'runs/rot/train')).map((p) => Number(p.step))).toEqual(
      Array.from({ length: 3000 }, (_, i) => i),
    );
  });

  it('degrades to a no-op with one warning when the logdir cannot be created', async () => {
    const outDir = tmpDir();
    fs.writeFileSync(path.join(outDir, 'blocker'), '');
    const warnings: string[] = [];
    const telemetry = await startTelemetry(
      {
        outDir,
        tensorboard: true,
        tensorboardDir: 'blocker/tb',
        systemMetricsInterval: 0,
        installExitHandlers: false,
      },
      { env: {}, warn: (message) => warnings.push(message) },
    );
    for (let step = 0; step < 100; step++) expect(telemetry.log({ loss: step }, { step })).toBe(true);
    await telemetry.shutdown();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('tensorboard sink disabled');
    expect(telemetry.health.isUp('tensorboard')).toBe(false);
    expect(fs.readFileSync(path.join(outDir, '.codex/metrics.ndjson'), 'utf8').split('\n')).toHaveLength(101);
  });

  it('leaves only verifying records (and at most a truncated last one) when the writer is SIGKILLed', async () => {
    const outDir = tmpDir();
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../fixtures/children/log-forever.mjs', import.meta.url)), outDir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CODEX_TENSORBOARD: '1', CODEX_RUN_NAME: 'killed' },
      },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const dir = path.join(outDir, 'runs/killed/train');
    const deadline = Date.now() + 20_000;
    while (
      (eventFiles(dir)[0] ? fs.statSync(eventFiles(dir)[0] as string).size : 0) < 200_000 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const read = readEventFile(eventFiles(dir)[0] as string); // throws on any CRC mismatch
    expect(read.events.length).toBeGreaterThan(1000);
    // Step-time histograms share the train run (at the latest step): keep the scalar rows only.
    const steps = read.events
      .filter((event) => event.values?.some((value) => value.simpleValue !== undefined))
      .map((event) => Number(event.step));
    steps.forEach((step, i) => expect(step).toBe(i));
  });
});
