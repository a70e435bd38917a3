import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RotationPolicy } from '../../../src/exporters/file/rotation-policy.js';
import { readEventFile } from '../../helpers/checked-readers.js';
import {
  TensorBoardExporter,
  type TensorBoardExporterOptions,
} from '../../../src/exporters/tensorboard/tensorboard-exporter.js';
import type { StepRow } from '../../../src/step.js';
import type { Row } from '../../../src/pipeline/row.js';
import { SinkHealth } from '../../../src/health.js';
import { StepTimeAccumulator } from '../../../src/pipeline/step-time-accumulator.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-tb-direct-'));
  dirs.push(dir);
  return dir;
}

function exporter(logdir: string, options: Partial<TensorBoardExporterOptions> = {}): TensorBoardExporter {
  return new TensorBoardExporter({
    logdir,
    runName: 'run1',
    health: new SinkHealth(() => undefined),
    hostname: 'node-a',
    pid: 4242,
    ...options,
  });
}

function rows(list: Array<Partial<StepRow> & { step: StepRow['step'] }>): Row[] {
  return list.map((row) => {
    const full = { phase: 'train' as const, ts: 1.7e9, names: ['loss'], values: [0.5], ...row };
    return { ...full, stream: full.phase };
  });
}

function exportNow(target: TensorBoardExporter, batch: Row[]): void {
  target.write(batch);
}

function files(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name));
}

describe('TensorBoardExporter on its own', () => {
  it("names each phase's file events.out.tfevents.<10-digit secs>.<host>.<pid>.<n> under <logdir>/<run>/<phase>, first record brain.Event:2", async () => {
    const logdir = tmpDir();
    const tb = exporter(logdir, { now: () => 1_700_000_123.75 });
    exportNow(
      tb,
      rows([
        { step: 1 },
        { step: 1, phase: 'eval', names: ['acc'], values: [0.9] },
        { step: 1, phase: 'system', names: ['cpu_percent', 'ram_percent'], values: [12.5, 40] },
      ]),
    );
    await tb.close();
    for (const phase of ['train', 'eval', 'system']) {
      const [file, ...more] = files(path.join(logdir, 'run1', phase));
      expect(more).toHaveLength(0);
      expect(path.basename(file as string)).toBe('events.out.tfevents.1700000123.node-a.4242.000000');
      const events = readEventFile(file as string).events;
      expect(events[0]).toEqual({ wallTime: 1_700_000_123.75, step: 0n, fileVersion: 'brain.Event:2' });
      expect(events).toHaveLength(2);
    }
    const system = readEventFile(files(path.join(logdir, 'run1', 'system'))[0] as string).events[1];
    expect(system?.values?.map((value) => [value.tag, value.simpleValue])).toEqual([
      ['cpu_percent', 12.5],
      ['ram_percent', 40],
    ]);
  });

  it('keeps file names in write order across rotations, even when the clock steps back', async () => {
    const logdir = tmpDir();
    const clock = [1_700_000_500, 1_700_000_100, 1_700_000_900, 1_700_000_050];
    let tick = 0;
    const tb = exporter(logdir, {
      rotation: new RotationPolicy({ maxBytes: 200 }),
      now: () => clock[Math.min(tick++, clock.length - 1)] as number,
    });
    for (let batch = 0; batch < 8; batch++) {
      exportNow(tb, rows(Array.from({ length: 10 }, (_, i) => ({ step: batch * 10 + i }))));
      await tb.flush();
    }
    await tb.close();
    const written = files(path.join(logdir, 'run1', 'train'));
    expect(written.length).toBeGreaterThan(3);
    const seconds = written.map((file) => Number(path.basename(file).split('.')[3]));
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
    expect(seconds[0]).toBe(1_700_000_500);
    const steps = written.flatMap((file) =>
      readEventFile(file)
        .events.filter((event) => event.values !== undefined)
        .map((event) => Number(event.step)),
    );
    expect(steps).toEqual(Array.from({ length: 80 }, (_, i) => i));
  });

  it("writes rank-0 DT_FLOAT tensors tagged for the scalars plugin when scalarForm is 'tensor'", async () => {
    const logdir = tmpDir();
    const tb = exporter(logdir, { scalarForm: 'tensor' });
    exportNow(tb, rows([{ step: 2n ** 63n - 1n, names: ['loss', 'lr'], values: [0.25, 1e39] }]));
    await tb.close();
    const event = readEventFile(files(path.join(logdir, 'run1', 'train'))[0] as string).events[1];
    expect(event?.step).toBe(2n ** 63n - 1n);
    expect(
      event?.values?.map((value) => [
        value.tag,
        value.tensor?.dtype,
        value.tensor?.shape,
        value.tensor?.floatVal,
        value.pluginName,
      ]),
    ).toEqual([
      ['loss', 1, [], [0.25], 'scalars'],
      ['lr', 1, [], [Infinity], 'scalars'],
    ]);
    expect(event?.values?.every((value) => value.simpleValue === undefined)).toBe(true);
  });

  it('writes the step-time histogram into the train run at the latest timed train step', async () => {
    const logdir = tmpDir();
    const stepTimes = new StepTimeAccumulator([0.1, 0.2, 0.4, 0.8]);
    for (const seconds of [0.15, 0.15, 0.3, 0.35]) stepTimes.record(seconds, 41, 1.7e9);
    stepTimes.record(0.5, 42, 1.7e9 + 1);
    const tb = exporter(logdir);
    exportNow(tb, rows([{ step: 41 }, { step: 7, phase: 'eval' }, { step: 42 }]));
    tb.writeStepTimes(stepTimes.take()!);
    expect(stepTimes.take()).toBeUndefined();
    await tb.close();
    const events = readEventFile(files(path.join(logdir, 'run1', 'train'))[0] as string).events;
    const histos = events.filter((event) => event.values?.[0]?.histo !== undefined);
    expect(histos).toHaveLength(1);
    expect(histos[0]?.step).toBe(42n);
    expect(histos[0]?.values?.[0]).toMatchObject({
      tag: 'codex.step.duration',
      histo: { min: 0.15, max: 0.5, num: 5, bucketLimit: [0.2, 0.4, 0.8], bucket: [2, 2, 1] },
    });
    expect(histos[0]?.values?.[0]?.histo?.sum).toBeCloseTo(1.45, 12);
  });

  it('never writes a NaN wall_time: a row without a valid time gets the clock', async () => {
    const logdir = tmpDir();
    const tb = exporter(logdir, { now: () => 1_700_000_777.5 });
    exportNow(tb, rows([{ step: 3, ts: NaN }]));
    await tb.close();
    const events = readEventFile(files(path.join(logdir, 'run1', 'train'))[0] as string).events;
    expect(events[1]?.wallTime).toBe(1_700_000_777.5);
    expect(events[1]?.step).toBe(3n);
  });

  it('writes nothing after close, and closes idempotently', async () => {
    const logdir = tmpDir();
    const tb = exporter(logdir);
    exportNow(tb, rows([{ step: 1 }]));
    const first = tb.close();
    expect(tb.close()).toBe(first);
    await first;
    exportNow(tb, rows([{ step: 2 }]));
    await tb.close();
    const events = readEventFile(files(path.join(logdir, 'run1', 'train'))[0] as string).events;
    expect(events.map((event) => Number(event.step))).toEqual([0, 1]);
  });
});

describe('the run config text summary', () => {
  it('is a Markdown table in the train run that survives pipes, bigints and cycles in values', async () => {
    const logdir = tmpDir();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const tb = exporter(logdir, {
      config: { 'opt|name': 'adam|w', steps: 2n ** 63n - 1n, cyclic, lr: 3e-4 },
    });
    await tb.close();
    const events = readEventFile(files(path.join(logdir, 'run1', 'train'))[0] as string).events;
    const value = events[1]?.values?.[0];
    expect(value?.tag).toBe('config/text_summary');
    expect(value?.pluginName).toBe('text');
    const lines = (value?.tensor?.stringVal[0] as string).split('\n');
    expect(lines.slice(0, 2)).toEqual(['| key | value |', '| --- | --- |']);
    expect(lines).toContain('| opt\\|name | "adam\\|w" |');
    expect(lines).toContain('| steps | 9223372036854775807n |');
    expect(lines).toContain('| lr | 0.0003 |');
    expect(lines).toHaveLength(6);
  });
});
