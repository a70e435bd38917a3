/**
 * Reading part of a run index (index-select.ts): the runs picked, each checked, give the buckets
 * the whole index gives; an index that does not account for the whole stream is left to the
 * whole load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketStatesOf, firstRenderLevels } from '../../src/dashboard/index-buckets.js';
import { LEVEL, RECORD_COLUMNS, SERIES } from '../../src/run-index/bucket-record.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { besidePath } from '../../src/run-index/index-path.js';
import {
  LEVELS,
  readSelectedRuns,
  RecordScratch,
  type SelectedRuns,
} from '../../src/run-index/index-select.js';
import { loadStreamIndex, type LoadedIndex } from '../../src/run-index/stream-index.js';
import { expectSameAsFullScan } from './index-check.js';
import { appendStream, writeStream } from './make-stream.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-select-'));
  env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const everything = (counts: Int32Array): Uint8Array => new Uint8Array(counts.length).fill(1);

/** The runs a first render reads (one level a series, index-backlog.ts), and the levels picked. */
function firstRenderRead(file: string): { selected: SelectedRuns; levels: Int32Array } {
  let levels: Int32Array = new Int32Array(0);
  const selected = readSelectedRuns(
    file,
    (counts, defs) => {
      levels = firstRenderLevels(counts, defs.length, LEVELS);
      const wanted = new Uint8Array(counts.length);
      levels.forEach((level, id) => (wanted[id * LEVELS + level] = 1));
      return wanted;
    },
    env,
  ) as SelectedRuns;
  return { selected, levels };
}

function asLoaded(selected: SelectedRuns): LoadedIndex {
  return {
    path: selected.path,
    defs: selected.defs,
    blocks: selected.records.map((records) => ({
      end: selected.end,
      resume: selected.end,
      final: false,
      defs: [],
      records,
    })),
    open: selected.open,
    end: selected.end,
    scanned: 0,
    reused: true,
    malformed: selected.malformed,
    written: 0,
  };
}

/** Records as "series/level" → their numbers, in order: what a reader of one series sees. */
function byRun(records: readonly Float64Array[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const d of records)
    for (let o = 0; o < d.length; o += RECORD_COLUMNS) {
      const key = `${d[o + SERIES]}/${d[o + LEVEL]}`;
      out.set(key, [...(out.get(key) ?? []), ...d.subarray(o, o + RECORD_COLUMNS)]);
    }
  return out;
}

describe('reading the runs of an index a reader built', () => {
  it('every run picked gives the same buckets as a full scan, with the open buckets the block carries', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 6000);
    const built = await loadStreamIndex(file, { env });
    const selected = readSelectedRuns(file, everything, env);
    expect(selected).toBeDefined();
    const loaded = asLoaded(selected as SelectedRuns);
    expect(loaded.open.length).toBeGreaterThan(0);
    expect(await expectSameAsFullScan(loaded, file)).toBeGreaterThan(100);
    expect(byRun(loaded.blocks.map((b) => b.records))).toEqual(byRun(built.blocks.map((b) => b.records)));
  });

  it("a first render's pick reads a small part of the index and draws what the whole index draws", async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 60_000);
    const whole = await loadStreamIndex(file, { env });
    const { selected, levels } = firstRenderRead(file);
    // loss: 60,000 rows → 938 level-0 buckets (under 1,024): level 0; the rest is coarser.
    expect(Array.from(levels)).toEqual([0, 0, 0, 0]);
    const indexBytes = fs.statSync(besidePath(file)).size;
    expect(selected.bytesRead).toBeLessThan(indexBytes);
    const fromSelected = bucketStatesOf(selected.defs, selected.records, selected.open, true, levels);
    const fromWhole = bucketStatesOf(
      whole.defs,
      whole.blocks.map((b) => b.records),
      whole.open,
    );
    expect(fromSelected).toEqual(fromWhole);
  });

  it('reads into one reused scratch buffer what it reads into new arrays, a read never sharing its views', async () => {
    // Two streams whose indexes have several blocks (appended rows, each open of them a block).
    const files = ['a', 'b'].map((name) => path.join(dir, `${name}.ndjson`));
    for (const [k, file] of files.entries()) {
      writeStream(file, 0, 3000 + 1000 * k);
      await loadStreamIndex(file, { env });
      appendStream(file, 3000 + 1000 * k, 5000 + 1000 * k);
      await loadStreamIndex(file, { env });
    }
    const scratch = new RecordScratch();
    for (const file of [...files, ...files]) {
      const plain = readSelectedRuns(file, everything, env) as SelectedRuns;
      const reused = readSelectedRuns(file, everything, env, scratch.reset()) as SelectedRuns;
      expect(plain.records.length).toBeGreaterThan(1);
      expect(reused.records.map((r) => Array.from(r))).toEqual(plain.records.map((r) => Array.from(r)));
      // The views of one read lie apart in the buffer.
      const spans = reused.records
        .map((r) => [r.byteOffset, r.byteOffset + r.byteLength, r.buffer] as const)
        .sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++)
        if (spans[i]?.[2] === spans[i - 1]?.[2])
          expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] as number);
    }
  });

  it('keeps a scratch buffer up to its bound between reads, and lets a bigger one go', () => {
    const scratch = new RecordScratch();
    const small = scratch.reset().take(1000);
    expect(scratch.reset().take(1000).buffer).toBe(small.buffer);
    const atBound = scratch.reset().take(RecordScratch.MAX_KEPT_BYTES / 8);
    expect(scratch.reset().take(10).buffer).toBe(atBound.buffer);
    const past = scratch.reset().take(RecordScratch.MAX_KEPT_BYTES / 8 + 1);
    const next = scratch.reset().take(10);
    expect(next.buffer).not.toBe(past.buffer);
    expect(next.buffer.byteLength).toBeLessThan(RecordScratch.MAX_KEPT_BYTES);
  });

  it('reads a tenth of the index or less for a dense series of 1,000,000 rows', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    let text = '';
    for (let step = 0; step < 1_000_000; step++)
      text += `{"v":1,"ts":${step},"run_id":"r","step":${step},"name":"loss","value":${step % 17},"tags":{"phase":"train"}}\n`;
    fs.writeFileSync(file, text);
    await loadStreamIndex(file, { env });
    const { selected, levels } = firstRenderRead(file);
    // 15,625 level-0 buckets, 3,906 level-1, 976 level-2: level 2.
    expect(Array.from(levels)).toEqual([2]);
    expect(selected.bytesRead).toBe(976 * RECORD_COLUMNS * 8);
    expect(selected.bytesRead).toBeLessThan(fs.statSync(besidePath(file)).size / 10);
    // The open buckets of levels 0 to 2 follow the finished ones, coarsest first, as from the whole index.
    const whole = await loadStreamIndex(file, { env, write: false });
    expect(bucketStatesOf(selected.defs, selected.records, selected.open, true, levels)).toEqual(
      bucketStatesOf(
        whole.defs,
        whole.blocks.map((b) => b.records),
        whole.open,
      ),
    );
  }, 60_000);
});

describe('an index that is not read in part', () => {
  it('rows after its last block, a writer block without open buckets, or no index: undefined', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    expect(readSelectedRuns(file, everything, env)).toBeUndefined();
    writeStream(file, 0, 3000);
    expect(readSelectedRuns(file, everything, env)).toBeUndefined();
    await loadStreamIndex(file, { env });
    expect(readSelectedRuns(file, everything, env)).toBeDefined();
    appendStream(file, 3000, 3010);
    expect(readSelectedRuns(file, everything, env)).toBeUndefined();
    // Brought up to date again (a block that carries its open buckets), it is read in part.
    await loadStreamIndex(file, { env });
    expect(readSelectedRuns(file, everything, env)).toBeDefined();
  });

  it('a picked run whose records fail their checksum: undefined, and the whole load rebuilds the block', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 6000);
    await loadStreamIndex(file, { env });
    const index = besidePath(file);
    const bytes = fs.readFileSync(index);
    // The last byte of the file is a record of the last run: damage it.
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    fs.writeFileSync(index, bytes);
    expect(decodeIndex(bytes).blocks).toHaveLength(0);
    expect(readSelectedRuns(file, everything, env)).toBeUndefined();
    const rebuilt = await loadStreamIndex(file, { env });
    // The damaged block was the only one: the whole stream is read again.
    expect(rebuilt.scanned).toBe(fs.statSync(file).size);
    await expectSameAsFullScan(rebuilt, file);
    expect(readSelectedRuns(file, everything, env)).toBeDefined();
  });
});
