/**
 * The sink's index, byte for byte, against the reference builder (reference-builder.ts) fed one
 * value at a time in row order, with each line's start found by scanning the stream for newlines:
 * however the sink takes rows (a table of rows of the same names, or a value at a time), its
 * blocks are the reference's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineEncoder, type LineEnds } from '../../src/ndjson/line/encode-line.js';
import type { Row } from '../../src/pipeline/row.js';
import { decodeIndex, encodeBlock } from '../../src/run-index/index-codec.js';
import { tailHash } from '../../src/run-index/index-file.js';
import { besidePath } from '../../src/run-index/index-path.js';
import { SinkIndex } from '../../src/run-index/sink-index.js';
import { TABLE_CELLS } from '../../src/run-index/row-table.js';
import { ReferenceIndexBuilder } from './reference-builder.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-index-bytes-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const SPECIAL = [NaN, Infinity, -Infinity, -0];

/** Rows whose names change now and then, with system rows, restarts and rows naming a series twice. */
function makeRows(count: number, seed: number): Row[] {
  let state = seed;
  const rand = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const rows: Row[] = [];
  let step = 0;
  let names = ['loss', 'lr', 'grad_norm'];
  for (let r = 0; r < count; r++) {
    const pick = rand();
    if (pick < 0.01) names = ['loss', 'lr', 'grad_norm', 'tokens_per_s'];
    else if (pick < 0.02) names = ['loss', 'lr', 'grad_norm'];
    else if (pick < 0.025) names = ['lr', 'loss', 'grad_norm/ü'];
    else if (pick < 0.027) names = ['loss', 'loss'];
    else if (pick < 0.03) names = [`rare_${Math.floor(rand() * 5)}`, 'loss'];
    if (rand() < 0.003) step = Math.max(0, step - Math.floor(rand() * 200));
    step++;
    const ts = 1.7e9 + step * 0.1234567891;
    const values = names.map((_, i) =>
      rand() < 0.02 ? (SPECIAL[Math.floor(rand() * 4)] as number) : Math.cos(step * (i + 1)) * 10 ** (i - 2),
    );
    rows.push({ stream: 'train', phase: 'train', step, ts, names: [...names], values });
    if (step % 29 === 0)
      rows.push({
        stream: 'train',
        phase: 'system',
        step,
        ts,
        names: ['cpu_percent', 'mem'],
        values: [step % 100, rand()],
      });
    if (rand() < 0.01)
      rows.push({
        stream: 'train',
        phase: 'eval',
        step,
        ts,
        names: ['loss', 'acc'],
        values: [rand(), rand()],
      });
  }
  return rows;
}

describe("the sink's index", () => {
  it('is byte for byte the index of its rows taken one value at a time, in row order', () => {
    const stream = path.join(dir, 'metrics.ndjson');
    const fd = fs.openSync(stream, 'w+');
    const sink = new SinkIndex(stream, 'r-1');
    const reference = new ReferenceIndexBuilder();
    const encoder = new LineEncoder({ runId: 'r-1' });
    const rows = makeRows(40_000, 11);
    const expected: Buffer[] = [];
    let size = 0;
    let at = 0;
    let chunks = 0;
    // Chunks of every size, from one row to more than a table holds, cut now and then.
    for (let n = 1; at < rows.length; n = (n * 7 + 3) % (TABLE_CELLS / 2) || 1) {
      const chunkRows = rows.slice(at, at + n);
      at += chunkRows.length;
      const ends: LineEnds = { at: [], count: 0 };
      let chunk = '';
      for (const row of chunkRows) chunk += encoder.encodeRow(row, ends, chunk.length);
      const bytes = Buffer.from(chunk, 'utf8');
      sink.addRows(chunkRows, chunkRows.length, ends.at, chunk, bytes, size);
      let lineAt = size;
      for (const row of chunkRows) {
        const step = Number(row.step);
        const ts = Math.round(row.ts * 1e6) / 1e6;
        const lineLength = (): number => bytes.indexOf(0x0a, lineAt - size) + 1 - (lineAt - size);
        row.names.forEach((name, i) => {
          const id = reference.seriesId('r-1', row.phase, name);
          reference.add(id, step, ts, row.values[i] as number, lineAt);
          if (row.phase !== 'system') lineAt += lineLength();
        });
        if (row.phase === 'system') lineAt += lineLength();
      }
      fs.writeSync(fd, bytes, 0, bytes.length, size);
      size += bytes.length;
      expect(lineAt).toBe(size);
      if (++chunks % 3 === 0 || at >= rows.length) {
        const final = at >= rows.length;
        sink.cut(size, final);
        sink.writePending();
        expected.push(encodeBlock(reference.cut(size, final), tailHash(fd, size)));
      }
    }
    sink.close();
    fs.closeSync(fd);
    const written = fs.readFileSync(besidePath(stream));
    const decoded = decodeIndex(written);
    expect(decoded.blocks.length).toBe(expected.length);
    expect(decoded.blocks.at(-1)?.final).toBe(true);
    const blocks = written.subarray(decoded.headerBytes);
    expect(blocks.equals(Buffer.concat(expected))).toBe(true);
  });
});
