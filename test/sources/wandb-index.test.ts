/**
 * A large W&B run opened the second time from its run index: the store holds what a full read
 * holds (points, non-finite counts, extremes and their steps, step range; system stats placed by
 * their count), the run says the same of itself (name, id, state, exit code, config, summary), and
 * the log is not read again, only what was appended since. A log cut, replaced, or an index torn
 * makes the run read in full.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeriesStore } from '../../src/dashboard/series-store.js';
import { SourceRunReader } from '../../src/dashboard/source-run-reader.js';
import { WandbExporter } from '../../src/exporters/wandb/wandb-exporter.js';
import { SinkHealth } from '../../src/health.js';
import { cachePath } from '../../src/run-index/index-path.js';
import type { Row } from '../../src/pipeline/row.js';
import { wandbIndexKey } from '../../src/sources/wandb/wandb-index.js';
import { logOfRunDir } from '../../src/sources/wandb/wandb-run-reader.js';
import { storeSummaries, type SeriesSummary } from '../helpers/store-summaries.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wandb-index-'));
  env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const START = 1.7e9;

/** Train rows of steps [from, to) (one value in 97 NaN, one in 89 +Inf), eval every 50 steps, system stats every 20. */
function rows(from: number, to: number, shift = 0): Row[] {
  const out: Row[] = [];
  for (let step = from; step < to; step++) {
    const loss = step % 97 === 0 ? NaN : step % 89 === 0 ? Infinity : Math.sin(step) * 100 + shift;
    out.push({
      stream: 'train',
      phase: 'train',
      step,
      ts: START + step,
      names: ['loss', 'lr'],
      values: [loss, 1e-3 / (step + 1)],
    });
    if (step % 50 === 49)
      out.push({
        stream: 'eval',
        phase: 'eval',
        step,
        ts: START + step,
        names: ['accuracy'],
        values: [step / to],
      });
    if (step % 20 === 0)
      out.push({
        stream: 'system',
        phase: 'system',
        step: NaN,
        ts: START + step,
        names: ['cpu_percent'],
        values: [(step * 7) % 100],
      });
  }
  return out;
}

/** A finished W&B run of `steps` steps under `parent`; returns its log. */
async function writeRun(parent: string, steps: number, runId = 'idx00001', shift = 0): Promise<string> {
  const exporter = new WandbExporter({
    dir: parent,
    runId,
    startTime: START,
    health: new SinkHealth(() => undefined),
    config: { lr: 0.001, shift },
  });
  for (let from = 0; from < steps; from += 1000) {
    exporter.write(rows(from, Math.min(steps, from + 1000), shift));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await exporter.close({ exitCode: 0 });
  return logOfRunDir(exporter.runDir) as string;
}

interface Opened {
  store: SeriesStore;
  reader: SourceRunReader;
}

async function open(log: string, indexMinBytes: number): Promise<Opened> {
  const store = new SeriesStore();
  const reader = new SourceRunReader(
    { kind: 'wandb', path: path.dirname(log), name: 'run' },
    store,
    () => undefined,
    30_000,
    () => undefined,
    { indexMinBytes, env },
  );
  await reader.poll();
  return { store, reader };
}

/** What a reading shows: every series, and what the run says of itself. */
function shown({ store, reader }: Opened): { series: Record<string, SeriesSummary>; info: unknown } {
  const { name, id, state, exitCode, config, summary, notShown } = reader.info;
  return {
    series: storeSummaries(store),
    info: { name, id, state, exitCode, config, summary, notShown: [...notShown] },
  };
}

const full = async (log: string): Promise<ReturnType<typeof shown>> => shown(await open(log, Infinity));
const indexFile = (log: string): string => `${wandbIndexKey(log)}.idx`;

describe('a W&B run opened from its run index', () => {
  it('holds what a full read holds, and the second open reads none of the log', async () => {
    const log = await writeRun(dir, 6000);
    const first = await open(log, 0);
    expect(first.reader.indexed).toBe(false);
    expect(fs.existsSync(indexFile(log))).toBe(true);
    const second = await open(log, 0);
    expect(second.reader.indexed).toBe(true);
    expect(second.reader.bytesRead).toBe(0);
    const expected = await full(log);
    expect(Object.keys(expected.series).sort()).toEqual([
      'accuracy|idx00001\u0000eval\u0000|0',
      'loss|idx00001\u0000train\u0000|0',
      'lr|idx00001\u0000train\u0000|0',
      'system/cpu_percent|idx00001\u0000system\u0000|0',
    ]);
    expect(expected.series['system/cpu_percent|idx00001\u0000system\u0000|0']?.points).toBe(300);
    expect(expected.info).toMatchObject({ state: 'finished', exitCode: 0, id: 'idx00001' });
    expect(shown(second)).toEqual(expected);
    expect(shown(first)).toEqual(expected);

    // Bytes in the middle changed behind the index's back: an open that re-read them would differ.
    const fd = fs.openSync(log, 'r+');
    fs.writeSync(fd, Buffer.alloc(5000, 0x55), 0, 5000, 100_000);
    fs.closeSync(fd);
    expect(shown(await open(log, 0))).toEqual(expected);
  });

  it('reads only what the writer appended after the index, a torn last record included, and follows it as a full read does', async () => {
    const whole = fs.readFileSync(await writeRun(path.join(dir, 'whole'), 6000));
    const log = path.join(dir, 'live', 'run-idx00001.wandb');
    fs.mkdirSync(path.dirname(log), { recursive: true });
    // The writer is mid-record: the index stops before the torn record.
    const cut = Math.floor(whole.length / 2) + 13;
    fs.writeFileSync(log, whole.subarray(0, cut));
    const live = await open(log, 0);
    expect(shown(live)).toEqual(await full(log));
    expect(live.reader.info.state).toBe('running');

    fs.appendFileSync(log, whole.subarray(cut));
    const second = await open(log, 0);
    expect(second.reader.indexed).toBe(true);
    expect(second.reader.bytesRead).toBeGreaterThan(whole.length - cut);
    expect(second.reader.bytesRead).toBeLessThan(whole.length - cut + 32 * 1024);
    const expected = await full(log);
    expect(expected.info).toMatchObject({ state: 'finished', exitCode: 0 });
    expect(shown(second)).toEqual(expected);
    const third = await open(log, 0);
    expect(third.reader.bytesRead).toBe(0);
    expect(shown(third)).toEqual(expected);
  });

  it('is rebuilt when the log was replaced or cut, and not used for a run under its size bound', async () => {
    const log = await writeRun(dir, 4000);
    await open(log, 0);
    // Another run's log under the same name (a rerun with the same id).
    const other = fs.readFileSync(await writeRun(path.join(dir, 'other'), 5000, 'idx00001', 7));
    fs.rmSync(log);
    fs.writeFileSync(log, other);
    const replaced = await open(log, 0);
    expect(replaced.reader.indexed).toBe(false);
    expect(shown(replaced)).toEqual(await full(log));
    expect((await open(log, 0)).reader.indexed).toBe(true);

    // Cut in place (same inode) to less than the index accounts for.
    fs.truncateSync(log, Math.floor(other.length / 3));
    const cut = await open(log, 0);
    expect(cut.reader.indexed).toBe(false);
    expect(shown(cut)).toEqual(await full(log));

    const small = await writeRun(path.join(dir, 'small'), 100, 'small001');
    const read = await open(small, fs.statSync(small).size + 1);
    expect(read.reader.indexed).toBe(false);
    expect(fs.existsSync(indexFile(small))).toBe(false);
  });

  it('ignores a torn index (a crash while it was copied) and writes it again', async () => {
    const log = await writeRun(dir, 4000);
    await open(log, 0);
    const index = indexFile(log);
    fs.truncateSync(index, fs.statSync(index).size - 100);
    const torn = await open(log, 0);
    expect(torn.reader.indexed).toBe(false);
    expect(shown(torn)).toEqual(await full(log));
    const again = await open(log, 0);
    expect(again.reader.indexed).toBe(true);
    expect(again.reader.bytesRead).toBe(0);
  });

  it('finds an index kept in the cache folder for a run whose folder it could not write', async () => {
    const log = await writeRun(dir, 3000);
    await open(log, 0);
    const cached = cachePath(wandbIndexKey(log), env);
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    fs.renameSync(indexFile(log), cached);
    const second = await open(log, 0);
    expect(second.reader.indexed).toBe(true);
    expect(second.reader.bytesRead).toBe(0);
    expect(shown(second)).toEqual(await full(log));
  });
});
