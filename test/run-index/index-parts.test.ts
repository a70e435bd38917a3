/**
 * A build that only writes its index (the dashboard's background build, or the one before a
 * catalog opens) writes it in parts: a block each MAX_PART_RECORD_BYTES the builder grows by,
 * so it never holds a whole stream's records and open buckets at once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_BYTES } from '../../src/run-index/bucket-record.js';
import { MAX_PART_RECORD_BYTES } from '../../src/run-index/block-writer.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { MAX_STATE_BUCKETS } from '../../src/run-index/index-builder.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { expectSameAsFullScan } from './index-check.js';
import { streamLines } from './make-stream.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-index-parts-'));
  env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** One row for each of `n` names, as the dashboard-names bench writes them. */
function namesStream(n: number): string {
  const file = path.join(dir, `names-${n}.ndjson`);
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(
      `{"v":1,"ts":${1.76e9 + i},"run_id":"bench","step":${i},"name":"layer_${i}/grad_norm","value":${i % 97},"tags":{"phase":"train"}}\n`,
    );
  fs.writeFileSync(file, lines.join(''));
  return file;
}

function blocksOf(file: string): ReturnType<typeof decodeIndex>['blocks'] {
  return decodeIndex(fs.readFileSync(besidePath(file))).blocks;
}

describe('an index built in parts', () => {
  it('is one block, byte for byte the one a build that keeps everything writes, under its bound', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    fs.writeFileSync(file, streamLines(0, 20_000) + streamLines(0, 3_000, 'run-b', 1));
    const kept = await loadStreamIndex(file, { env });
    const whole = fs.readFileSync(besidePath(file));
    fs.rmSync(besidePath(file));
    const inParts = await loadStreamIndex(file, { env, inParts: true });
    expect(inParts.written).toBe(1);
    expect(kept.written).toBe(1);
    expect(fs.readFileSync(besidePath(file)).equals(whole)).toBe(true);
  });

  it('cuts a block once the builder grows by MAX_PART_RECORD_BYTES, not before', async () => {
    // A million names open a level-0 bucket a row: the bound is reached at this many rows.
    const atBound = MAX_PART_RECORD_BYTES / RECORD_BYTES;
    const under = namesStream(Math.floor(atBound));
    expect((await loadStreamIndex(under, { env, inParts: true })).written).toBe(1);
    const over = namesStream(Math.ceil(atBound) + 2);
    expect((await loadStreamIndex(over, { env, inParts: true })).written).toBe(2);
    expect(blocksOf(over)).toHaveLength(2);
  });

  it('gives the same buckets as a full scan, read back, and goes on from its last part', async () => {
    const file = namesStream(3_000);
    fs.appendFileSync(file, streamLines(0, 9_000));
    const built = await loadStreamIndex(file, {
      env,
      inParts: true,
      partBytes: 64 << 10,
      rescanBytes: 64 << 10,
    });
    expect(built.written).toBeGreaterThan(5);
    expect(built.blocks).toEqual([]);
    const blocks = blocksOf(file);
    expect(blocks).toHaveLength(built.written);
    // Each block's end lies at a line's start, after the one before.
    const text = fs.readFileSync(file);
    for (const [i, block] of blocks.entries()) {
      expect(text[block.end - 1]).toBe(0x0a);
      if (i > 0) expect(block.end).toBeGreaterThan((blocks[i - 1] as (typeof blocks)[number]).end);
    }
    const read = await loadStreamIndex(file, { env });
    expect(read.reused).toBe(true);
    expect(read.scanned).toBe(0);
    expect(await expectSameAsFullScan(read, file)).toBeGreaterThan(3_000);

    fs.appendFileSync(file, streamLines(9_000, 12_000));
    const grown = await loadStreamIndex(file, {
      env,
      inParts: true,
      partBytes: 64 << 10,
      rescanBytes: 64 << 10,
    });
    expect(grown.reused).toBe(true);
    expect(grown.written).toBeGreaterThan(0);
    expect(await expectSameAsFullScan(await loadStreamIndex(file, { env }), file)).toBeGreaterThan(3_000);
  });

  it('closes every level-0 bucket in its last block when their state is too big to carry, so nothing is read again', async () => {
    const n = MAX_STATE_BUCKETS + 2_000;
    const file = namesStream(n);
    const built = await loadStreamIndex(file, { env, inParts: true });
    const last = blocksOf(file).at(-1);
    expect(last?.state).toBeUndefined();
    expect(last?.resume).toBe(built.end);
    const read = await loadStreamIndex(file, { env });
    expect(read.scanned).toBe(0);
    expect(await expectSameAsFullScan(read, file)).toBeGreaterThanOrEqual(n);
  });
});
