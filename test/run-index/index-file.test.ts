/** Appending blocks to an index file: whole blocks, in one write when the kernel takes them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RECORD_COLUMNS } from '../../src/run-index/bucket-record.js';
import type { IndexBlock } from '../../src/run-index/index-builder.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { IndexFile, tailHash } from '../../src/run-index/index-file.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-file-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

function block(end: number, records: number): IndexBlock {
  return {
    end,
    resume: end,
    final: false,
    defs: [],
    records: Float64Array.from({ length: records * RECORD_COLUMNS }, (_, i) => (i + 1) * 0.37),
    malformed: { count: 0, samples: [] },
  };
}

describe('an index file', () => {
  it('finishes a block the kernel took only part of in one write, so every block reads back whole', () => {
    const stream = path.join(dir, 'stream');
    fs.writeFileSync(stream, 'x'.repeat(5000));
    const file = new IndexFile(path.join(dir, 'stream.idx'));
    file.append(stream, block(1000, 3));
    // The next write is short: the kernel takes the first 11 bytes of it (a full disk freed later,
    // a signal), as a real write would.
    const realWritev = fs.writevSync;
    const short = vi.spyOn(fs, 'writevSync').mockImplementationOnce((fd, buffers, position) => {
      const first = (buffers as Buffer[])[0] as Buffer;
      return realWritev(fd, [first.subarray(0, 11)], position);
    });
    file.append(stream, block(3000, 4), 1234);
    file.append(stream, block(5000, 2), 5678);
    file.close();
    expect(short).toHaveBeenCalled();
    const decoded = decodeIndex(fs.readFileSync(path.join(dir, 'stream.idx')));
    expect(decoded.blocks.map((b) => [b.end, b.records.length / RECORD_COLUMNS, b.tailHash])).toEqual([
      [1000, 3, tailHash(fs.openSync(stream, 'r'), 1000)],
      [3000, 4, 1234],
      [5000, 2, 5678],
    ]);
  });
});
