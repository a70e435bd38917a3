/**
 * Walking an index without loading it (index-scan.ts) finds what decoding it whole finds: the
 * same series definitions however the chunks fall (names with quotes, brackets, backslashes and
 * characters beyond ASCII), the same records at the offsets it reports, and no index when the
 * stream was replaced or the index's last block is torn.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_COLUMNS } from '../../src/run-index/bucket-record.js';
import { decodeIndex } from '../../src/run-index/index-codec.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { forEachDef, forEachRecord, readRecordsAt } from '../../src/run-index/index-parts.js';
import { scanIndex, type ScannedIndex } from '../../src/run-index/index-scan.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';

let dir: string;
let stream: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-scan-'));
  stream = path.join(dir, 'metrics.ndjson');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ODD = ['a"]b', 'c\\d', ',[x]', 'é/ü', '😀 grin', 'tab\tin'];

function write(names: number): void {
  let out = '';
  for (let i = 0; i < names; i++) {
    const name = `${ODD[i % ODD.length] as string}_${i}`;
    out += `{"v":1,"ts":${1.7e9 + i},"run_id":"r\\"1","step":${i},"name":${JSON.stringify(name)},"value":${i},"tags":{"phase":"${i % 3 === 0 ? 'eval' : 'train'}"}}\n`;
  }
  fs.writeFileSync(stream, out);
}

function scan(): ScannedIndex {
  const fd = fs.openSync(stream, 'r');
  try {
    return scanIndex(besidePath(stream), fd) as ScannedIndex;
  } finally {
    fs.closeSync(fd);
  }
}

describe('walking a run index in chunks', () => {
  it('reads the definitions decoding the whole index gives, wherever the chunks are cut', async () => {
    write(3000);
    await loadStreamIndex(stream);
    const whole = decodeIndex(fs.readFileSync(besidePath(stream)));
    const expected = whole.blocks.flatMap((b) => b.defs.map((d) => [d.id, d.run, d.phase, d.name]));
    expect(expected).toHaveLength(3000);
    expect(expected).toContainEqual([1, 'r"1', 'train', 'c\\d_1']);
    const scanned = scan();
    expect(scanned.blocks).toHaveLength(whole.blocks.length);
    for (const chunkBytes of [1, 7, 100, 4096, undefined]) {
      const defs: unknown[] = [];
      for (const block of scanned.blocks)
        forEachDef(scanned.path, block, (...def) => defs.push(def), chunkBytes);
      expect(defs, `chunks of ${chunkBytes ?? 'default'} bytes`).toEqual(expected);
    }
  });

  it('finds every record at the offset it reports', async () => {
    write(500);
    await loadStreamIndex(stream);
    const whole = decodeIndex(fs.readFileSync(besidePath(stream)));
    const scanned = scan();
    const seen: number[][] = [];
    const offsets: number[] = [];
    forEachRecord(scanned.path, scanned.blocks, (d, o, at) => {
      seen.push([...d.subarray(o, o + RECORD_COLUMNS)]);
      offsets.push(at);
    });
    const expected = whole.blocks.flatMap((b) => {
      const rows: number[][] = [];
      for (let o = 0; o < b.records.length; o += RECORD_COLUMNS)
        rows.push([...b.records.subarray(o, o + RECORD_COLUMNS)]);
      return rows;
    });
    expect(seen).toEqual(expected);
    const again = readRecordsAt(scanned.path, offsets);
    expect([...again]).toEqual(expected.flat());
  });

  it('gives no index for a replaced stream, and drops a torn last block', async () => {
    write(200);
    await loadStreamIndex(stream);
    fs.appendFileSync(stream, `{"v":1,"ts":1,"step":1,"name":"late","value":1}\n`);
    await loadStreamIndex(stream);
    expect(scan().blocks).toHaveLength(2);
    const index = besidePath(stream);
    fs.truncateSync(index, fs.statSync(index).size - 3);
    expect(scan().blocks).toHaveLength(1);
    const copy = `${stream}.copy`;
    fs.copyFileSync(stream, copy);
    fs.renameSync(copy, stream);
    expect(scan()).toBeUndefined();
  });
});
