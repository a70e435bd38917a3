/**
 * The builder's per-series state lives in arrays shared by many series (series-states.ts): the
 * index it writes for a stream is byte for byte the one the per-series-object builder wrote
 * (reference-builder.ts), for a reader's cut, a writer's flushes, a read-back and a stream of more
 * names than a block carries open buckets for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PHASE_NAMES, type MetricVisitor, type PhaseId } from '../../src/ndjson/line/metric-visitor.js';
import type { LineProcessor } from '../../src/ndjson/line/line-processor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { readMetricRecords } from '../../src/ndjson/read-metric-records.js';
import { encodeBlock } from '../../src/run-index/index-codec.js';
import { IndexBuilder, MAX_STATE_BUCKETS, type IndexBlock } from '../../src/run-index/index-builder.js';
import { ReferenceIndexBuilder } from './reference-builder.js';
import { streamLines } from './make-stream.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codex-compact-state-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Builder = IndexBuilder | ReferenceIndexBuilder;

/** Feeds every row of `file` to both builders, as a reader does, cutting after each `cutEvery` lines. */
async function feed(
  file: string,
  builders: readonly Builder[],
  cutEvery = Infinity,
  onCut: (blocks: IndexBlock[], end: number) => void = () => undefined,
): Promise<void> {
  const tables = { names: new NameTable(), runs: new NameTable() };
  let processor: LineProcessor | undefined;
  let lines = 0;
  const visitor: MetricVisitor = {
    scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number) {
      const offset = (processor as LineProcessor).lineStart;
      if (++lines % cutEvery === 0)
        onCut(
          builders.map((b) => b.cut(offset)),
          offset,
        );
      const runId = run < 0 ? '' : tables.runs.name(run);
      for (const builder of builders) {
        const id = builder.seriesId(runId, PHASE_NAMES[phase], tables.names.name(name));
        if (offset > builder.covered(id)) builder.add(id, Number(step), ts, value, offset);
      }
    },
    malformed: () => undefined,
  };
  await readMetricRecords(file, visitor, tables, { onProcessor: (p) => (processor = p) });
}

function bytesOf(block: IndexBlock): Buffer {
  return encodeBlock(block, 0);
}

function expectSameBlocks(ours: IndexBlock, reference: IndexBlock): void {
  expect(ours.records.length).toBe(reference.records.length);
  expect(bytesOf(ours).equals(bytesOf(reference))).toBe(true);
}

/** 20,000 steps of loss, eval acc and system rows (NaN and ±Infinity among them), then a restart. */
function mixedStream(): string {
  const file = path.join(dir, 'mixed.ndjson');
  fs.writeFileSync(
    file,
    streamLines(0, 20_000) + streamLines(5_000, 9_000, 'run-a', 3) + streamLines(0, 700, 'run-b'),
  );
  return file;
}

/** One row for each of `n` names, as the dashboard-names bench writes them. */
function namesStream(n: number): string {
  const file = path.join(dir, `names-${n}.ndjson`);
  let text = '';
  for (let i = 0; i < n; i++)
    text += `{"v":1,"ts":${1.76e9 + i},"run_id":"bench","step":${i},"name":"layer_${i}/grad_norm","value":${i % 97},"tags":{"phase":"train"}}\n`;
  fs.writeFileSync(file, text);
  return file;
}

describe('the index builder with its state in shared arrays', () => {
  it("writes a reader's block, its open buckets included, byte for byte as the per-series builder did", async () => {
    const file = mixedStream();
    const ours = new IndexBuilder(64 << 10);
    const reference = new ReferenceIndexBuilder(64 << 10);
    await feed(file, [ours, reference]);
    const end = fs.statSync(file).size;
    const a = ours.cut(end, false, true);
    const b = reference.cut(end, false, true);
    expect(a.state?.open.length).toBeGreaterThan(0);
    expectSameBlocks(a, b);
    expect(ours.openBuckets()).toEqual(reference.openBuckets());
  });

  it("writes a writer's flushes and its final block as the per-series builder did, and reads them back alike", async () => {
    const file = mixedStream();
    const ours = new IndexBuilder(64 << 10);
    const reference = new ReferenceIndexBuilder(64 << 10);
    const blocks: IndexBlock[] = [];
    await feed(file, [ours, reference], 3_000, ([a, b], end) => {
      expectSameBlocks(a as IndexBlock, b as IndexBlock);
      expect(ours.covered(0)).toBe(reference.covered(0));
      if (end < 1_500_000) blocks.push(a as IndexBlock);
    });
    const end = fs.statSync(file).size;
    expectSameBlocks(ours.cut(end, true), reference.cut(end, true));
    expect(blocks.length).toBeGreaterThan(2);
    // A final block closes every bucket: none is left open, and nothing is emitted again.
    expect(ours.openBuckets()).toEqual(reference.openBuckets());
    expectSameBlocks(ours.cut(end + 1, true), reference.cut(end + 1, true));

    // Taken up from the first blocks as a later reader would: the same state, so the same block.
    const again = new IndexBuilder(64 << 10);
    const againReference = new ReferenceIndexBuilder(64 << 10);
    again.restore(blocks);
    againReference.restore(blocks);
    for (let id = 0; id < again.defs.length; id++) expect(again.covered(id)).toBe(againReference.covered(id));
    expect(again.openBuckets()).toEqual(againReference.openBuckets());
  });

  it('writes the block of more names than a block carries open buckets for (no state) as the per-series builder did', async () => {
    const n = MAX_STATE_BUCKETS + 4_000;
    const file = namesStream(n);
    const ours = new IndexBuilder();
    const reference = new ReferenceIndexBuilder();
    await feed(file, [ours, reference]);
    const end = fs.statSync(file).size;
    const a = ours.cut(end, false, true);
    const b = reference.cut(end, false, true);
    expect(a.defs.length).toBe(n);
    expect(a.state).toBeUndefined();
    expectSameBlocks(a, b);
    expect(a.resume).toBe(b.resume);
    // The segment ends: a series of one row is one record, not one per level.
    const finalOurs = ours.cut(end, true);
    expectSameBlocks(finalOurs, reference.cut(end, true));
    expect(finalOurs.records.length).toBeGreaterThan(0);
    expect(ours.openBuckets()).toEqual(reference.openBuckets());
  });
});

/** `rounds` rows of each of `n` names, a round after the other: each name's rows lie far apart. */
function roundsStream(n: number, rounds: number): string {
  const file = path.join(dir, `rounds-${n}x${rounds}.ndjson`);
  let text = '';
  for (let round = 0; round < rounds; round++)
    for (let i = 0; i < n; i++)
      text += `{"v":1,"ts":${1.76e9 + round * n + i},"step":${round},"name":"w_${i}","value":${(i * round) % 13},"tags":{"phase":"train"}}\n`;
  fs.writeFileSync(file, text);
  return file;
}

describe('open buckets of one row, kept as their row', () => {
  it('merges names whose rows come back after their buckets closed, and carries them as state, as the per-series builder did', async () => {
    // Each flush closes the buckets older than 64 KiB: every row becomes a level-0 bucket of its
    // own, kept as its row one level up until the next round's bucket merges into it.
    const file = roundsStream(2_000, 9);
    const ours = new IndexBuilder(64 << 10);
    const reference = new ReferenceIndexBuilder(64 << 10);
    let flushes = 0;
    await feed(file, [ours, reference], 700, ([a, b]) => {
      flushes++;
      expectSameBlocks(a as IndexBlock, b as IndexBlock);
    });
    expect(flushes).toBeGreaterThan(20);
    const end = fs.statSync(file).size;
    const a = ours.cut(end, false, true);
    expect(a.state?.children.some((children) => children > 1)).toBe(true);
    expect(a.state?.children.some((children) => children === 1)).toBe(true);
    expectSameBlocks(a, reference.cut(end, false, true));
    expect(ours.openBuckets()).toEqual(reference.openBuckets());
  });
});

describe('a sparse series (a bucket closed by its span) as it grows a level', () => {
  it('keeps the row that closes a bucket while the series grows a level (the old builder lost it)', () => {
    const builder = new IndexBuilder();
    const id = builder.seriesId('', 'eval', 'acc');
    const rows = 40;
    // Each row more than SPAN_BYTES after the one before: each closes the bucket before it, and
    // the fifth fills level 1 and starts level 2.
    for (let i = 0; i < rows; i++) builder.add(id, i, i, i, i * 1.1 * (1 << 20));
    const { records } = builder.cut(rows * 1.1 * (1 << 20), true);
    let level0Rows = 0;
    for (let o = 0; o < records.length; o += 18)
      if (records[o + 1] === 0) level0Rows += records[o + 2] as number;
    expect(level0Rows).toBe(rows);
  });
});
