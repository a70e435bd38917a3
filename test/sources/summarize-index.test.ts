/**
 * `summarize` of a large TensorBoard or W&B run the second time, from its own index (the reader's
 * resume point and the aggregator's state there): every format prints, byte for byte, what a full
 * read prints (counts, first and last, extremes with their steps, means to the last bit, trends,
 * non-finite and malformed counts), and only bytes past the index are read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WandbExporter } from '../../src/exporters/wandb/wandb-exporter.js';
import { encodeScalarsRecord } from '../../src/formats/tensorboard/scalars-record.js';
import { SinkHealth } from '../../src/health.js';
import type { RunSpec } from '../../src/sources/discover-sources.js';
import { readRun } from '../../src/summarize/read-runs.js';
import { renderReports } from '../../src/summarize/render.js';
import { buildReport } from '../../src/summarize/report.js';
import { logOfRunDir } from '../../src/sources/wandb/wandb-run-reader.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summarize-index-'));
  env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const FORMATS = ['table', 'markdown', 'json', 'csv'] as const;

/** Every format's output of summarize over the run, from its index (indexMinBytes 0) or read in full. */
async function outputs(spec: RunSpec, fromIndex: boolean): Promise<string[]> {
  const summary = await readRun(spec, { indexMinBytes: fromIndex ? 0 : Infinity, env });
  const report = buildReport(summary, new Map(), '');
  return FORMATS.map((format) => renderReports(format, [report], undefined));
}

const TAGS = ['loss', 'eval/accuracy', 'grad_norm'];

/** Events of steps [from, to), every tag each step; one value in 97 NaN, one in 89 +Inf, one in 83 -0. */
function events(from: number, to: number): Buffer {
  const parts: Buffer[] = [];
  for (let step = from; step < to; step++)
    TAGS.forEach((tag, k) => {
      const value =
        step % 97 === k
          ? NaN
          : step % 89 === k
            ? Infinity
            : step % 83 === k
              ? -0
              : Math.sin(step * (k + 1)) * 100 + from / 7;
      parts.push(encodeScalarsRecord(1.7e9 + step / 3, step, [tag], [value]));
    });
  return Buffer.concat(parts);
}

/** A record whose CRC is wrong: a malformed record in the middle of the file. */
function damaged(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[copy.length - 1] = (copy[copy.length - 1] as number) ^ 0xff;
  return copy;
}

describe('summarize of a large run from its own index', () => {
  it('prints, in every format, what a full read of a TensorBoard run prints, and reads none of it again', async () => {
    const run = path.join(dir, 'tb');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    // Trained to 6000, a damaged record, restarted from a checkpoint at 4000 and trained on to 7000.
    fs.writeFileSync(file, Buffer.concat([events(0, 6000), damaged(events(6000, 6001)), events(4000, 7000)]));
    const spec: RunSpec = { kind: 'tfevents', path: run, name: 'tb' };
    const full = await outputs(spec, false);
    expect(full[0]).toContain('malformed');
    expect(fs.existsSync(path.join(run, '.tfevents.summary.idx'))).toBe(false);
    expect(await outputs(spec, true)).toEqual(full);
    expect(fs.existsSync(path.join(run, '.tfevents.summary.idx'))).toBe(true);
    expect(await outputs(spec, true)).toEqual(full);

    // Bytes in the middle changed behind the index's back: a summarize that re-read them would differ.
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, events(0, 300), 0, 20_000, 100_000);
    fs.closeSync(fd);
    expect(await outputs(spec, false)).not.toEqual(full);
    expect(await outputs(spec, true)).toEqual(full);
  });

  it('reads only what was appended after the index (a restart included) and prints what a full read prints', async () => {
    const run = path.join(dir, 'tb');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    fs.writeFileSync(file, events(0, 5000));
    const spec: RunSpec = { kind: 'tfevents', path: run, name: 'tb' };
    await outputs(spec, true);
    fs.appendFileSync(file, events(5000, 6000));
    expect(await outputs(spec, true)).toEqual(await outputs(spec, false));
    fs.appendFileSync(file, events(2000, 2500));
    expect(await outputs(spec, true)).toEqual(await outputs(spec, false));
    fs.writeFileSync(path.join(run, 'events.out.tfevents.1700000001.host'), events(2500, 3000));
    expect(await outputs(spec, true)).toEqual(await outputs(spec, false));
  });

  it('prints what a full read of a W&B run prints, while the writer is mid-record and after it finished', async () => {
    const exporter = new WandbExporter({
      dir: path.join(dir, 'whole'),
      runId: 'summ0001',
      startTime: 1.7e9,
      health: new SinkHealth(() => undefined),
      config: { lr: 0.001 },
    });
    for (let step = 0; step < 4000; step++) {
      const loss = step % 97 === 0 ? NaN : Math.cos(step) * 3;
      exporter.write([
        {
          stream: 'train',
          phase: 'train',
          step,
          ts: 1.7e9 + step,
          names: ['loss', 'lr'],
          values: [loss, 1 / (step + 1)],
        },
      ]);
      if (step % 10 === 0)
        exporter.write([
          {
            stream: 'system',
            phase: 'system',
            step: NaN,
            ts: 1.7e9 + step,
            names: ['cpu_percent'],
            values: [step % 100],
          },
        ]);
      if (step % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    await exporter.close({ exitCode: 0 });
    const whole = fs.readFileSync(logOfRunDir(exporter.runDir) as string);
    const log = path.join(dir, 'live', 'run-summ0001.wandb');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    const cut = Math.floor(whole.length / 2) + 11;
    fs.writeFileSync(log, whole.subarray(0, cut));
    const spec: RunSpec = { kind: 'wandb', path: path.dirname(log), name: 'w' };
    const torn = await outputs(spec, false);
    expect(torn[0]).toContain('crashed');
    expect(await outputs(spec, true)).toEqual(torn);
    expect(await outputs(spec, true)).toEqual(torn);
    fs.appendFileSync(log, whole.subarray(cut));
    const finished = await outputs(spec, false);
    expect(finished[0]).toContain('finished');
    expect(await outputs(spec, true)).toEqual(finished);
    expect(await outputs(spec, true)).toEqual(finished);
  });

  it('keeps no index of a run under its size bound', async () => {
    const run = path.join(dir, 'tb');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    fs.writeFileSync(file, events(0, 100));
    await readRun(
      { kind: 'tfevents', path: run, name: 'tb' },
      { indexMinBytes: fs.statSync(file).size + 1, env },
    );
    expect(fs.readdirSync(run)).toEqual(['events.out.tfevents.1700000000.host']);
  });
});
