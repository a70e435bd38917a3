/**
 * A block's records in runs (one series at one level, together), each run checked by its own
 * CRC-32, and a reader's block that carries its open buckets, which the next reader takes up
 * instead of re-reading rows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEVEL, RECORD_COLUMNS, SERIES } from '../../src/run-index/bucket-record.js';
import { IndexBuilder } from '../../src/run-index/index-builder.js';
import { decodeIndex, encodeBlock, encodeHeader } from '../../src/run-index/index-codec.js';
import { groupRuns, RUN_FIELDS } from '../../src/run-index/record-runs.js';

const HEADER = { inode: 1, headLength: 0, headHash: 0, pid: 0 };

/** Records of the given (series, level) pairs; column 2 numbers them in order, to follow each. */
function recordsOf(keys: readonly [number, number][]): Float64Array {
  const d = new Float64Array(keys.length * RECORD_COLUMNS);
  keys.forEach(([series, level], i) => {
    d[i * RECORD_COLUMNS + SERIES] = series;
    d[i * RECORD_COLUMNS + LEVEL] = level;
    for (let c = 2; c < RECORD_COLUMNS; c++) d[i * RECORD_COLUMNS + c] = i * 100 + c;
  });
  return d;
}

describe('grouping a block into runs', () => {
  // Series ids from 0 find their runs in a table per level, ids past a million (a writer's
  // flush of a few records late in a stream of many names) in a Map: both give the same runs.
  it('orders runs by level, keeps each run in its rows order, and moves every record once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 })), {
          maxLength: 300,
        }),
        fc.constantFrom(0, 1_000_000),
        (unshifted, first) => {
          const keys = unshifted.map(([s, l]): [number, number] => [s + first, l]);
          const records = recordsOf(keys);
          const runs = groupRuns(records);
          // The oracle: the records' numbers, sorted by level, then by where their (series, level)
          // first appears, then by number (a stable sort of the input).
          const firstSeen = new Map<string, number>();
          keys.forEach(([s, l], i) => {
            if (!firstSeen.has(`${s}/${l}`)) firstSeen.set(`${s}/${l}`, i);
          });
          const expected = keys
            .map(([s, l], i) => ({ l, first: firstSeen.get(`${s}/${l}`) as number, i }))
            .sort((a, b) => a.l - b.l || a.first - b.first || a.i - b.i)
            .map((x) => x.i);
          const got = Array.from(
            { length: keys.length },
            (_, r) => ((records[r * RECORD_COLUMNS + 2] as number) - 2) / 100,
          );
          expect(got).toEqual(expected);
          // Each run names the records it spans.
          let at = 0;
          for (let r = 0; r < runs.length; r += RUN_FIELDS) {
            for (let k = 0; k < (runs[r + 2] as number); k++, at++) {
              expect(records[at * RECORD_COLUMNS + SERIES]).toBe(runs[r]);
              expect(records[at * RECORD_COLUMNS + LEVEL]).toBe(runs[r + 1]);
            }
          }
          expect(at).toBe(keys.length);
          expect(
            new Set(Array.from({ length: runs.length / 3 }, (_, r) => `${runs[r * 3]}/${runs[r * 3 + 1]}`))
              .size,
          ).toBe(runs.length / 3);
        },
      ),
    );
  });
});

function blockOf(keys: readonly [number, number][]): Parameters<typeof encodeBlock>[0] {
  return {
    end: 1000,
    resume: 1000,
    final: true,
    defs: [],
    records: recordsOf(keys),
    malformed: { count: 0, samples: [] },
  };
}

describe('a run whose records are damaged', () => {
  it('ends the index there: that block and every later one are ignored, the earlier ones kept', () => {
    const first = encodeBlock(
      blockOf([
        [0, 0],
        [1, 0],
        [0, 1],
      ]),
      0,
    );
    const second = encodeBlock(
      blockOf([
        [0, 0],
        [1, 0],
      ]),
      0,
    );
    const third = encodeBlock(blockOf([[1, 0]]), 0);
    const whole = Buffer.concat([encodeHeader(HEADER), first, second, third]);
    expect(decodeIndex(whole).blocks).toHaveLength(3);
    // The last byte of the second block is in its last run's records, outside the checked head.
    const at = encodeHeader(HEADER).length + first.length + second.length - 1;
    const damaged = Buffer.from(whole);
    damaged[at] = (damaged[at] as number) ^ 0xff;
    const decoded = decodeIndex(damaged);
    expect(decoded.blocks).toHaveLength(1);
    expect(decoded.blockEnds).toEqual([encodeHeader(HEADER).length + first.length]);
  });
});

/** Rows of `series` series, interleaved; a sparse one (every 9th step) among them. */
function feed(builder: IndexBuilder, from: number, to: number): void {
  const ids = [0, 1, 2].map((i) => builder.seriesId('r', 'train', `s${i}`));
  for (let step = from; step < to; step++)
    ids.forEach((id, i) => {
      if (i === 2 && step % 9 !== 0) return;
      builder.add(id, step, step * 0.5, Math.sin(step * (i + 1)), step * 300 + i * 100);
    });
}

describe('a reader block that carries its open buckets', () => {
  it('is taken up as the builder left it: the next blocks equal those of a builder that never stopped', () => {
    for (const stop of [1, 63, 64, 700, 4 * 64 * 7 + 5]) {
      const rows = stop + 3000;
      const writer = new IndexBuilder(1 << 30);
      feed(writer, 0, stop);
      const cut = writer.cut(stop * 300, false, true);
      expect(cut.state).toBeDefined();
      expect(cut.resume).toBe(cut.end);
      // Read back from the file's bytes, as the next reader does.
      const stored = decodeIndex(Buffer.concat([encodeHeader(HEADER), encodeBlock(cut, 0)])).blocks;
      const reader = new IndexBuilder(1 << 30);
      reader.restore(stored);
      for (const series of [0, 1, 2]) expect(reader.covered(series)).toBe(stop * 300 - 1);
      expect(Array.from(reader.openBuckets())).toEqual(Array.from(writer.openBuckets()));
      for (const builder of [writer, reader]) feed(builder, stop, rows);
      const fromWriter = writer.cut(rows * 300, true);
      const fromReader = reader.cut(rows * 300, true);
      expect({ stop, records: Array.from(fromReader.records) }).toEqual({
        stop,
        records: Array.from(fromWriter.records),
      });
    }
  });

  it('is left out past MAX_STATE_BUCKETS open buckets, and the block asks for a re-read from resume', () => {
    const builder = new IndexBuilder(1 << 30);
    for (let i = 0; i < (1 << 16) + 1; i++)
      builder.add(builder.seriesId('r', 'train', `n${i}`), 0, 0, 1, i * 10);
    const block = builder.cut(1e9, false, true);
    expect(block.state).toBeUndefined();
    expect(block.resume).toBe(0);
  });
});
