/**
 * A large TensorBoard run opened the second time from its run index: the store holds what a full
 * read holds (points, non-finite counts, extremes and their steps, step range), TensorBoard's
 * restart rule included, and the event file is not read again, only what was appended since.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeriesStore } from '../../src/dashboard/series-store.js';
import { SourceRunReader } from '../../src/dashboard/source-run-reader.js';
import { encodeScalarsRecord } from '../../src/formats/tensorboard/scalars-record.js';
import { storeSummaries, type SeriesSummary } from '../helpers/store-summaries.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfevents-index-'));
  env = { XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const TAGS = ['loss', 'eval/accuracy', 'grad_norm'];

/** Events of steps [from, to), every tag each step; one value in 97 is NaN, one in 89 +Inf. */
function events(from: number, to: number): Buffer {
  const parts: Buffer[] = [];
  for (let step = from; step < to; step++)
    TAGS.forEach((tag, k) => {
      const value =
        step % 97 === k ? NaN : step % 89 === k ? Infinity : Math.sin(step * (k + 1)) * 100 + from;
      parts.push(encodeScalarsRecord(1.7e9 + step, step, [tag], [value]));
    });
  return Buffer.concat(parts);
}

type Summary = SeriesSummary;
const summaries = storeSummaries;

async function open(
  run: string,
  indexMinBytes: number,
): Promise<{ store: SeriesStore; reader: SourceRunReader }> {
  const store = new SeriesStore();
  const reader = new SourceRunReader(
    { kind: 'tfevents', path: run, name: 'run' },
    store,
    () => undefined,
    30_000,
    () => undefined,
    {
      indexMinBytes,
      env,
    },
  );
  await reader.poll();
  return { store, reader };
}

const full = async (run: string): Promise<Record<string, Summary>> =>
  summaries((await open(run, Infinity)).store);

describe('a TensorBoard run opened from its run index', () => {
  it('holds what a full read holds, and the second open reads none of the event file', async () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    fs.writeFileSync(file, events(0, 20_000));
    const first = await open(run, 0);
    expect(first.reader.indexed).toBe(false);
    expect(fs.existsSync(path.join(run, '.tfevents.idx'))).toBe(true);
    const second = await open(run, 0);
    expect(second.reader.indexed).toBe(true);
    expect(second.reader.bytesRead).toBe(0);
    const expected = await full(run);
    expect(Object.keys(expected)).toHaveLength(3);
    expect(summaries(second.store)).toEqual(expected);
    expect(summaries(first.store)).toEqual(expected);

    // Bytes in the middle changed behind the index's back: an open that re-read them would differ.
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, events(0, 200).subarray(0, 5000), 0, 5000, 100_000);
    fs.closeSync(fd);
    expect(summaries((await open(run, 0)).store)).toEqual(expected);
  });

  it('reads only what was appended after the index, and follows it as a full read does', async () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    fs.writeFileSync(file, events(0, 10_000));
    await open(run, 0);
    const appended = events(10_000, 12_000);
    fs.appendFileSync(file, appended);
    fs.writeFileSync(path.join(run, 'events.out.tfevents.1700000001.host'), events(12_000, 13_000));
    const second = await open(run, 0);
    expect(second.reader.indexed).toBe(true);
    expect(second.reader.bytesRead).toBe(appended.length + events(12_000, 13_000).length);
    expect(summaries(second.store)).toEqual(await full(run));
    const third = await open(run, 0);
    expect(third.reader.bytesRead).toBe(0);
    expect(summaries(third.store)).toEqual(await full(run));
  });

  it('applies the restart rule to a restart inside the index and to one appended after it', async () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    // Trained to 8000, restarted from a checkpoint at 5000 and trained on to 9000.
    fs.writeFileSync(file, Buffer.concat([events(0, 8000), events(5000, 9000)]));
    await open(run, 0);
    const indexed = await open(run, 0);
    expect(indexed.reader.bytesRead).toBe(0);
    const expected = await full(run);
    expect(expected['loss|run\u0000train\u0000|0']?.points).toBe(9000);
    expect(summaries(indexed.store)).toEqual(expected);

    // Restarted again, at 2000, after the index was written: every value at or past 2000 before it goes.
    fs.appendFileSync(file, events(2000, 3000));
    const restarted = await open(run, 0);
    const after = await full(run);
    expect(after['loss|run\u0000train\u0000|0']?.points).toBe(3000);
    expect(summaries(restarted.store)).toEqual(after);
    expect(summaries((await open(run, 0)).store)).toEqual(after);
  });

  it('is rebuilt when the event file was rewritten, and not used for a run under its size bound', async () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    const file = path.join(run, 'events.out.tfevents.1700000000.host');
    fs.writeFileSync(file, events(0, 5000));
    await open(run, 0);
    fs.writeFileSync(file, events(100, 6000));
    const rewritten = await open(run, 0);
    expect(rewritten.reader.indexed).toBe(false);
    expect(summaries(rewritten.store)).toEqual(await full(run));
    expect((await open(run, 0)).reader.indexed).toBe(true);

    const small = path.join(dir, 'small');
    fs.mkdirSync(small);
    fs.writeFileSync(path.join(small, 'events.out.tfevents.1.host'), events(0, 100));
    const read = await open(small, fs.statSync(path.join(small, 'events.out.tfevents.1.host')).size + 1);
    expect(read.reader.indexed).toBe(false);
    expect(fs.existsSync(path.join(small, '.tfevents.idx'))).toBe(false);
  });
});
