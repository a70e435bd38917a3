/** The index builder's final block: every level a series needs, and none it does not. */
import { describe, expect, it } from 'vitest';
import { COUNT, LEVEL, RECORD_COLUMNS, SERIES } from '../../src/run-index/bucket-record.js';
import { IndexBuilder } from '../../src/run-index/index-builder.js';

function levelsOf(records: Float64Array, series: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < records.length; o += RECORD_COLUMNS)
    if (records[o + SERIES] === series) out.push(records[o + LEVEL] as number);
  return out;
}

function rowsAtLevel(records: Float64Array, series: number, level: number): number {
  let rows = 0;
  for (let o = 0; o < records.length; o += RECORD_COLUMNS)
    if (records[o + SERIES] === series && records[o + LEVEL] === level) rows += records[o + COUNT] as number;
  return rows;
}

describe('the final block of a run index', () => {
  it('holds one record for a series of one row, not one per level (a million names would take 1.7 GB)', () => {
    const builder = new IndexBuilder();
    for (let i = 0; i < 1000; i++) builder.add(builder.seriesId('r', 'train', `name_${i}`), i, i, i, i * 100);
    const block = builder.cut(100_000, true);
    expect(block.records.length / RECORD_COLUMNS).toBe(1000);
  });

  it('stops at the first level that holds the whole series in one bucket, and every level kept holds every row', () => {
    const builder = new IndexBuilder();
    const id = builder.seriesId('r', 'train', 'loss');
    const rows = 64 * 5 + 3;
    for (let i = 0; i < rows; i++) builder.add(id, i, i, Math.sin(i), i * 100);
    const { records } = builder.cut(1e9, true);
    // 6 level-0 buckets → 2 level-1 buckets → 1 level-2 bucket, and nothing above.
    expect(levelsOf(records, id).sort()).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 2]);
    for (const level of [0, 1, 2]) expect(rowsAtLevel(records, id, level)).toBe(rows);
  });

  it('gives the same final block after its earlier blocks are read back as the writer would have', () => {
    const rows = 64 * 9 + 5;
    const writer = new IndexBuilder(1 << 30);
    const id = writer.seriesId('r', 'train', 'loss');
    for (let i = 0; i < 64 * 6; i++) writer.add(id, i, i, i, i * 100);
    const first = writer.cut(64 * 6 * 100);
    const reader = new IndexBuilder(1 << 30);
    reader.restore([first]);
    for (const builder of [writer, reader])
      for (let i = 64 * 6; i < rows; i++) builder.add(id, i, i, i, i * 100);
    const fromWriter = writer.cut(rows * 100, true);
    const fromReader = reader.cut(rows * 100, true);
    expect(Array.from(fromReader.records)).toEqual(Array.from(fromWriter.records));
    const all = new Float64Array([...first.records, ...fromWriter.records]);
    for (const level of [0, 1, 2]) expect(rowsAtLevel(all, id, level)).toBe(rows);
    expect(Math.max(...levelsOf(all, id))).toBe(2);
  });
});

describe('the records a cut hands over', () => {
  it('are kept as they were when the builder goes on after a block that took its buffer', () => {
    const builder = new IndexBuilder();
    const id = builder.seriesId('r', 'train', 'loss');
    // 64 × 64 rows: 64 finished level-0 buckets and their parents fill the builder's buffer.
    for (let i = 0; i < 64 * 64; i++) builder.add(id, i, i, i, i * 100);
    const first = builder.cut(64 * 64 * 100);
    const kept = Float64Array.from(first.records);
    for (let i = 64 * 64; i < 64 * 64 * 3; i++) builder.add(id, i, i, -i, i * 100);
    const second = builder.cut(64 * 64 * 300);
    expect(second.records.length).toBeGreaterThan(0);
    expect(Array.from(first.records)).toEqual(Array.from(kept));
  });

  it('hold at most twice their bytes: a big first block takes the buffer, a small flush is copied', () => {
    const builder = new IndexBuilder();
    const id = builder.seriesId('r', 'train', 'loss');
    for (let i = 0; i < 64 * 1000; i++) builder.add(id, i, i, i, i * 100);
    const big = builder.cut(64 * 1000 * 100);
    expect(big.records.buffer.byteLength).toBeGreaterThan(big.records.byteLength);
    expect(big.records.buffer.byteLength).toBeLessThanOrEqual(2 * big.records.byteLength);
    for (let i = 64 * 1000; i < 64 * 1001; i++) builder.add(id, i, i, i, i * 100);
    const small = builder.cut(64 * 1001 * 100);
    expect(small.records.length).toBeGreaterThan(0);
    expect(small.records.buffer.byteLength).toBe(small.records.byteLength);
  });
});

describe('where a level-0 bucket ends', () => {
  it('keeps rows logged again at the same step in one bucket, and starts a new one only when a step goes back', () => {
    const builder = new IndexBuilder();
    const id = builder.seriesId('r', 'train', 'loss');
    // 10 rows at step 5, then 10 at step 3 (a restarted run), then 10 at step 4.
    const steps = [...Array(10).fill(5), ...Array(10).fill(3), ...Array(10).fill(4)] as number[];
    steps.forEach((step, i) => builder.add(id, step, i, i, i * 100));
    const { records } = builder.cut(3000, true);
    const counts: number[] = [];
    for (let o = 0; o < records.length; o += RECORD_COLUMNS)
      if (records[o + LEVEL] === 0) counts.push(records[o + COUNT] as number);
    expect(counts).toEqual([10, 20]);
  });
});
