/**
 * The pieces of a zoom's exact read: which byte ranges a window's index buckets give (a sparse
 * series' one- and two-row buckets read as their lines alone), how overlapping ranges merge, and
 * reading those ranges of a plain and a gzip file through the shared line codec.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exactRanges } from '../../src/dashboard/zoom/window-plan.js';
import type { MetricVisitor } from '../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { mergeLineRanges, readLineRanges } from '../../src/ndjson/read-line-ranges.js';
import * as R from '../../src/run-index/bucket-record.js';

function bucket(
  count: number,
  first: number,
  last: number,
  offset: number,
  lastOffset: number,
): Float64Array {
  const d = new Float64Array(R.RECORD_COLUMNS);
  d[R.COUNT] = count;
  d[R.FIRST_STEP] = first;
  d[R.LAST_STEP] = last;
  d[R.MIN_STEP] = first;
  d[R.MAX_STEP] = last;
  d[R.OFFSET] = offset;
  d[R.LAST_OFFSET] = lastOffset;
  return d;
}

function concat(...buckets: Float64Array[]): Float64Array {
  const out = new Float64Array(buckets.length * R.RECORD_COLUMNS);
  buckets.forEach((b, i) => out.set(b, i * R.RECORD_COLUMNS));
  return out;
}

describe('the ranges a window reads', () => {
  it('reads a dense bucket from its first line through its last, and a sparse one as its lines alone', () => {
    const levels = [concat(bucket(64, 0, 63, 0, 9000), bucket(2, 1000, 2000, 2_000_000, 3_000_000))];
    const open = concat(bucket(1, 3000, 3000, 4_000_000, 4_000_000));
    expect(exactRanges({ levels, open }, 0, 5000)).toEqual([
      { start: 0, lastLine: 9000 },
      { start: 2_000_000, lastLine: 2_000_000 },
      { start: 3_000_000, lastLine: 3_000_000 },
      { start: 4_000_000, lastLine: 4_000_000 },
    ]);
    // Only buckets meeting the window.
    expect(exactRanges({ levels, open }, 100, 1500)).toEqual([
      { start: 2_000_000, lastLine: 2_000_000 },
      { start: 3_000_000, lastLine: 3_000_000 },
    ]);
  });

  it('merges overlapping ranges and keeps apart those with unread bytes between them', () => {
    expect(
      mergeLineRanges([
        { start: 500, lastLine: 600 },
        { start: 0, lastLine: 100 },
        { start: 100, lastLine: 200 },
        { start: 150, lastLine: 180 },
      ]),
    ).toEqual([
      { start: 0, lastLine: 200 },
      { start: 500, lastLine: 600 },
    ]);
  });
});

describe('reading line ranges', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-ranges-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Lines of step 0..n-1; step 7's line is 20 KB long (longer than a first read of a last line). */
  function lines(n: number): { text: string; starts: number[] } {
    let text = '';
    const starts: number[] = [];
    for (let step = 0; step < n; step++) {
      starts.push(Buffer.byteLength(text));
      const pad = step === 7 ? 'p'.repeat(20_000) : 'p';
      text += `{"v":1,"step":${step},"name":"loss","value":${step / 2},"tags":{"phase":"train","pad":"${pad}"}}\n`;
    }
    return { text, starts };
  }

  async function read(file: string, ranges: { start: number; lastLine: number }[]): Promise<number[]> {
    const steps: number[] = [];
    const visitor: MetricVisitor = {
      scalar: (_phase, _name, _run, step) => steps.push(Number(step)),
      malformed: (line) => {
        throw new Error(`malformed: ${line.reason}`);
      },
    };
    await readLineRanges(file, ranges, visitor, { names: new NameTable(), runs: new NameTable() });
    return steps;
  }

  it('reads exactly the lines of each range from a plain file, a long last line and an unterminated last line included', async () => {
    const { text, starts } = lines(12);
    const file = path.join(dir, 'm.ndjson');
    fs.writeFileSync(file, text.slice(0, -1)); // the last line has no newline
    const s = (i: number): number => starts[i] as number;
    expect(
      await read(file, [
        { start: s(1), lastLine: s(2) },
        { start: s(5), lastLine: s(7) },
        { start: s(11), lastLine: s(11) },
      ]),
    ).toEqual([1, 2, 5, 6, 7, 11]);
  });

  it('parses only the lines naming the series, or written with escapes, when asked to', async () => {
    const text =
      '{"v":1,"step":1,"name":"loss","value":1,"tags":{"phase":"train"}}\n' +
      '{"v":1,"step":1,"name":"acc","value":2,"tags":{"phase":"train"}}\n' +
      '{"v":1,"step":2,"name":"lo\\u0073s","value":3,"tags":{"phase":"train"}}\n' +
      '{"v":1,"step":3,"name":"train/loss","value":4,"tags":{"phase":"train"}}\n' +
      '{"v":1,"step":4,"name":"loss","value":5,"tags":{"phase":"train"}}\n';
    const names: string[] = [];
    const tables = { names: new NameTable(), runs: new NameTable() };
    const visitor: MetricVisitor = {
      scalar: (_phase, name, _run, step) => names.push(`${tables.names.name(name)}@${Number(step)}`),
      malformed: (line) => {
        throw new Error(`malformed: ${line.reason}`);
      },
    };
    for (const gzip of [false, true]) {
      names.length = 0;
      const file = path.join(dir, gzip ? 'f.ndjson.gz' : 'f.ndjson');
      fs.writeFileSync(file, gzip ? gzipSync(text) : text);
      await readLineRanges(file, [{ start: 0, lastLine: text.lastIndexOf('{') }], visitor, tables, {
        linesWith: Buffer.from('"loss"'),
      });
      // The escaped name is parsed (and is loss); acc and train/loss are skipped unparsed.
      expect(names).toEqual(['loss@1', 'loss@2', 'loss@4']);
    }
  });

  it('reads the same lines from a gzip file, inflating from its start', async () => {
    const { text, starts } = lines(12);
    const file = path.join(dir, 'm.ndjson.gz');
    fs.writeFileSync(file, gzipSync(text));
    const s = (i: number): number => starts[i] as number;
    expect(
      await read(file, [
        { start: s(0), lastLine: s(0) },
        { start: s(5), lastLine: s(7) },
        { start: s(9), lastLine: s(11) },
      ]),
    ).toEqual([0, 5, 6, 7, 9, 10, 11]);
  });
});
