import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEVEL, RECORD_COLUMNS } from '../../src/run-index/bucket-record.js';
import { besidePath, cachePath } from '../../src/run-index/index-path.js';
import { loadStreamIndex } from '../../src/run-index/stream-index.js';
import { allBuckets, expectSameAsFullScan } from './index-check.js';
import { appendStream, streamLines, writeStream } from './make-stream.js';

let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-index-'));
  env = { ...process.env, XDG_CACHE_HOME: path.join(dir, 'cache') };
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('an index built on first read', () => {
  it('gives the same buckets as a full scan, non-finite values included, at every level', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 6000);
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(false);
    expect(index.path).toBe(besidePath(file));
    const levels = new Set(allBuckets(index).map((b) => b.level));
    expect([...levels].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(await expectSameAsFullScan(index, file)).toBeGreaterThan(100);
    const nonFinite = allBuckets(index).filter((b) => b.level === 0);
    expect(nonFinite.reduce((n, b) => n + b.nan + b.posInf + b.negInf, 0)).toBe(Math.ceil((6000 - 13) / 97));
  });

  it('is read back on the next open without reading the stream again', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 3000);
    const first = await loadStreamIndex(file, { env, rescanBytes: 16_384 });
    const second = await loadStreamIndex(file, { env, rescanBytes: 16_384 });
    expect(second.reused).toBe(true);
    // Only the rows of still-open buckets are read again, not the whole stream.
    expect(second.scanned).toBeLessThanOrEqual(16_384 + 200);
    expect(allBuckets(second)).toEqual(allBuckets(first));
  });

  it('goes on from where it stopped when the stream grew, with the same buckets as a full scan', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 2500);
    await loadStreamIndex(file, { env, rescanBytes: 16_384 });
    const before = fs.statSync(file).size;
    appendStream(file, 2500, 5000);
    const grown = await loadStreamIndex(file, { env, rescanBytes: 16_384 });
    expect(grown.reused).toBe(true);
    expect(grown.scanned).toBeLessThanOrEqual(fs.statSync(file).size - before + 16_384 + 200);
    await expectSameAsFullScan(grown, file);
  });

  it('counts each malformed line once as the stream grows, keeping where the first few are', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    const bad = (step: number): string =>
      `{"v":1,"step":${step},"name":"loss","value":"oops","tags":{"phase":"train"}}\n`;
    // Bad lines near the end, among rows of still-open buckets that the next open reads again.
    fs.writeFileSync(file, streamLines(0, 2000) + bad(2000) + streamLines(2001, 2010) + bad(2010));
    const first = await loadStreamIndex(file, { env });
    expect(first.malformed.count).toBe(2);
    fs.appendFileSync(file, streamLines(2011, 3000) + bad(3000));
    const grown = await loadStreamIndex(file, { env });
    expect(grown.reused).toBe(true);
    expect(grown.malformed.count).toBe(3);
    // The last block carries its open buckets: no row is read again, and none counted twice.
    const again = await loadStreamIndex(file, { env });
    expect(again.scanned).toBe(0);
    expect(again.malformed.count).toBe(3);
    const lineOf = (text: string): number =>
      fs.readFileSync(file, 'utf8').split('\n').indexOf(text.trimEnd()) + 1;
    expect(again.malformed.samples.map((m) => [m.line, m.field])).toEqual([
      [lineOf(bad(2000)), 'value'],
      [lineOf(bad(2010)), 'value'],
      // Read from the last block's resume offset: the offset is known, not the line.
      [0, 'value'],
    ]);
    await expectSameAsFullScan(again, file);
  });

  it('closes buckets left open longer than the re-read bound, so a re-read stays short', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 4000);
    await loadStreamIndex(file, { env, rescanBytes: 4096 });
    const again = await loadStreamIndex(file, { env, rescanBytes: 4096 });
    expect(again.scanned).toBeLessThanOrEqual(4096 + 200);
    await expectSameAsFullScan(again, file);
  });
});

describe('an index that no longer matches its stream', () => {
  it('ignores a torn last block and keeps the whole ones', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 2000);
    await loadStreamIndex(file, { env });
    appendStream(file, 2000, 4000);
    await loadStreamIndex(file, { env });
    const indexFile = besidePath(file);
    const whole = fs.statSync(indexFile).size;
    // A crash in the middle of the second block's write.
    fs.truncateSync(indexFile, whole - 100);
    const torn = await loadStreamIndex(file, { env });
    expect(torn.reused).toBe(true);
    await expectSameAsFullScan(torn, file);
    // The torn bytes were cut off before the new block was appended.
    const next = await loadStreamIndex(file, { env });
    expect(next.reused).toBe(true);
    expect(next.scanned).toBeLessThan(fs.statSync(file).size);
    await expectSameAsFullScan(next, file);
  });

  it('ignores garbage after the last whole block', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 2000);
    await loadStreamIndex(file, { env });
    fs.appendFileSync(besidePath(file), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]));
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(true);
    await expectSameAsFullScan(index, file);
  });

  it('is rebuilt when the stream was truncated and rewritten with other rows', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 3000);
    await loadStreamIndex(file, { env });
    const lines = streamLines(0, 3000).split('\n');
    // Same head, other tail: a writer that truncated to a line and logged different values.
    fs.writeFileSync(file, lines.slice(0, 1000).join('\n') + '\n');
    appendStream(file, 900, 3100, 'run-a', 5);
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(false);
    await expectSameAsFullScan(index, file);
  });

  it('is rebuilt when the stream was replaced by another file', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 3000);
    await loadStreamIndex(file, { env });
    const other = path.join(dir, 'other.ndjson');
    writeStream(other, 0, 3500, 'run-b');
    fs.renameSync(other, file);
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(false);
    expect(new Set(index.defs.map((d) => d.run))).toEqual(new Set(['run-b']));
    await expectSameAsFullScan(index, file);
  });

  it('drops the blocks past a truncated end and reads the rest again', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 1500);
    await loadStreamIndex(file, { env });
    const cut = fs.statSync(file).size;
    appendStream(file, 1500, 3000);
    await loadStreamIndex(file, { env });
    fs.truncateSync(file, cut);
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(true);
    expect(index.end).toBe(cut);
    await expectSameAsFullScan(index, file);
  });
});

describe('segments and where the index is kept', () => {
  it('indexes a gzip segment under its plain name and reuses it without inflating it again', async () => {
    const plain = path.join(dir, 'metrics.000001.ndjson');
    writeStream(plain, 0, 3000);
    const gz = `${plain}.gz`;
    fs.writeFileSync(gz, gzipSync(fs.readFileSync(plain)));
    const first = await loadStreamIndex(gz, { env });
    expect(first.path).toBe(path.join(dir, 'metrics.000001.ndjson.idx'));
    // Every bucket of a closed segment is closed.
    expect(first.open.length).toBe(0);
    fs.rmSync(plain);
    await expectSameAsFullScan(first, gz);
    const again = await loadStreamIndex(gz, { env });
    expect(again.reused).toBe(true);
    expect(again.scanned).toBe(0);
  });

  it('finds an index kept in the cache folder for a stream whose folder it could not write', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 2000);
    await loadStreamIndex(file, { env });
    fs.mkdirSync(path.dirname(cachePath(file, env)), { recursive: true });
    fs.renameSync(besidePath(file), cachePath(file, env));
    const index = await loadStreamIndex(file, { env });
    expect(index.reused).toBe(true);
    expect(index.path).toBe(cachePath(file, env));
  });

  it('takes a few percent of the stream', async () => {
    const file = path.join(dir, 'metrics.ndjson');
    writeStream(file, 0, 20_000);
    const index = await loadStreamIndex(file, { env });
    const ratio = fs.statSync(index.path as string).size / fs.statSync(file).size;
    expect(ratio).toBeLessThan(0.05);
    const top = index.blocks.flatMap((b) => {
      const levels: number[] = [];
      for (let o = 0; o < b.records.length; o += RECORD_COLUMNS) levels.push(b.records[o + LEVEL] as number);
      return levels;
    });
    expect(Math.max(...top)).toBeGreaterThan(2);
  });
});
