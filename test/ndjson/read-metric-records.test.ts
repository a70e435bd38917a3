import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MalformedLine, MetricVisitor, PhaseId } from '../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../src/ndjson/line/name-table.js';
import { readMetricRecords, type ReadOptions } from '../../src/ndjson/read-metric-records.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ndjson/', import.meta.url));
const PHASES = ['train', 'eval', 'system'];

interface Seen {
  phase: string;
  name: string;
  run: string | undefined;
  step: number | bigint;
  ts: number;
  value: number;
}

class Recorder implements MetricVisitor {
  readonly names = new NameTable();
  readonly runs = new NameTable();
  readonly scalars: Seen[] = [];
  readonly faults: MalformedLine[] = [];
  scalar(phase: PhaseId, name: number, run: number, step: number | bigint, ts: number, value: number): void {
    this.scalars.push({
      phase: PHASES[phase] as string,
      name: this.names.name(name),
      run: run < 0 ? undefined : this.runs.name(run),
      step,
      ts,
      value,
    });
  }
  malformed(line: MalformedLine): void {
    this.faults.push(line);
  }
}

async function read(file: string, options: ReadOptions = {}): Promise<Recorder & { lines: number }> {
  const recorder = new Recorder();
  const stats = await readMetricRecords(
    file,
    recorder,
    { names: recorder.names, runs: recorder.runs },
    options,
  );
  return Object.assign(recorder, { lines: stats.lines });
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ndjson-reader-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('readMetricRecords', () => {
  it('reads scalar lines, system snapshots and plain rows of the mixed fixture in order', async () => {
    const r = await read(path.join(FIXTURES, 'mix.ndjson'));
    expect(r.lines).toBe(11);
    expect(r.faults).toEqual([]);
    expect(r.scalars[0]).toEqual({
      phase: 'train',
      name: 'loss',
      run: 'run00001',
      step: 1,
      ts: 1700000000,
      value: 2,
    });
    expect(r.scalars[4]?.value).toBeNaN();
    const system = r.scalars.filter((s) => s.phase === 'system');
    expect(system.map((s) => [s.name, s.step, s.value])).toEqual([
      ['cpu_percent', 0, 50],
      ['ram_used_bytes', 0, 1073741824],
      ['gpu_0_util_percent', 0, 90],
      ['gpu_0_power_w', 0, 200],
      ['cpu_percent', 1, 100],
      ['ram_used_bytes', 1, 3221225472],
      ['gpu_0_util_percent', 1, 70],
      ['gpu_0_power_w', 1, 300],
    ]);
    const plain = r.scalars.filter((s) => s.step === 4);
    expect(plain).toEqual([
      { phase: 'train', name: 'acc', run: undefined, step: 4, ts: 1700000009, value: 0.75 },
      { phase: 'train', name: 'loss', run: undefined, step: 4, ts: 1700000009, value: 0.75 },
    ]);
  });

  it('gives the same records for the gzip copy as for the plain file', async () => {
    const plain = await read(path.join(FIXTURES, 'mix.ndjson'));
    const gz = await read(path.join(FIXTURES, 'mix.ndjson.gz'));
    expect(gz.scalars).toEqual(plain.scalars);
    expect(gz.lines).toBe(plain.lines);
  });

  it('reports each malformed line with its line number and field, and keeps the good ones', async () => {
    const r = await read(path.join(FIXTURES, 'malformed.ndjson'));
    expect(r.lines).toBe(8);
    expect(r.faults.map((f) => [f.line, f.field])).toEqual([
      [2, 'step'],
      [3, 'line'],
      [4, 'value'],
      [5, 'line'],
      [8, 'line'],
    ]);
    expect(r.faults[3]?.reason).toBe('invalid UTF-8');
    expect(r.faults[4]?.reason).toMatch(/^truncated last line/);
    expect(r.scalars.map((s) => [s.step, s.value])).toEqual([
      [1, 1],
      [4, 0.25],
      [9007199254740993n, 0.125],
    ]);
  });

  it('keeps int64 steps beyond 2^53 exact on the fast path and on the JSON.parse path', async () => {
    const file = path.join(dir, 'big.ndjson');
    fs.writeFileSync(
      file,
      '{"v":1,"ts":1,"run_id":"r","step":9223372036854775807,"name":"x","value":1,"tags":{"phase":"train"}}\n' +
        '{"step": 9007199254740993, "x": 2}\n' +
        '{"step":9223372036854775808,"x":3}\n',
    );
    const r = await read(file);
    expect(r.scalars.map((s) => s.step)).toEqual([9223372036854775807n, 9007199254740993n]);
    expect(r.faults.map((f) => [f.line, f.field])).toEqual([[3, 'step']]);
  });

  it('reads non-finite spellings as NaN and ±Infinity and -0 as negative zero', async () => {
    const file = path.join(dir, 'nf.ndjson');
    const line = (v: string): string =>
      `{"v":1,"ts":1,"run_id":"r","step":1,"name":"x","value":${v},"tags":{"phase":"eval"}}\n`;
    fs.writeFileSync(
      file,
      line('"NaN"') + line('"Infinity"') + line('"-Infinity"') + line('-0') + line('"nan"'),
    );
    const r = await read(file);
    expect(r.scalars.map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, -0]);
    expect(Object.is(r.scalars[3]?.value, -0)).toBe(true);
    expect(r.faults.map((f) => [f.line, f.field])).toEqual([[5, 'value']]);
  });

  it('treats reordered keys, whitespace, escapes and extra tags like the canonical line', async () => {
    const file = path.join(dir, 'variants.ndjson');
    fs.writeFileSync(
      file,
      [
        '{"v":1,"ts":2.5,"run_id":"r1","step":7,"name":"l\\u00f6ss","value":0.5,"tags":{"phase":"train","rank":1,"host":"a\\"b"}}',
        '{"name":"löss","value":0.5,"step":7,"ts":2.5,"run_id":"r1","tags":{"phase":"train"}}',
        '{ "v": 1, "ts": 2.5, "run_id": "r1", "step": 7, "name": "löss", "value": 0.5, "tags": { "phase": "train" } }\r',
      ].join('\n') + '\n',
    );
    const r = await read(file);
    expect(r.faults).toEqual([]);
    expect(r.scalars).toHaveLength(3);
    for (const s of r.scalars)
      expect(s).toEqual({ phase: 'train', name: 'löss', run: 'r1', step: 7, ts: 2.5, value: 0.5 });
    expect(r.names.size).toBe(1);
  });

  it('finds the same records whatever the chunk size, with lines split across chunks', async () => {
    const whole = await read(path.join(FIXTURES, 'mix.ndjson'));
    for (const chunkBytes of [7, 64, 100]) {
      const r = await read(path.join(FIXTURES, 'mix.ndjson'), { chunkBytes });
      expect(r.scalars).toEqual(whole.scalars);
    }
  });

  it('skips a line longer than the limit as malformed and goes on with the next', async () => {
    const file = path.join(dir, 'long.ndjson');
    fs.writeFileSync(
      file,
      `{"step":1,"x":1}\n{"step":2,"pad":"${'y'.repeat(500)}","x":2}\n{"step":3,"x":3}\n`,
    );
    const r = await read(file, { chunkBytes: 32, maxLineBytes: 128 });
    expect(r.scalars.map((s) => s.value)).toEqual([1, 3]);
    expect(r.faults.map((f) => [f.line, f.field])).toEqual([[2, 'line']]);
    expect(r.lines).toBe(3);
  });

  it('reads only the byte range it is given', async () => {
    const file = path.join(FIXTURES, 'mix.ndjson');
    const text = fs.readFileSync(file);
    const cut = text.indexOf(10, 300) + 1;
    const head = await read(file, { end: cut });
    const tail = await read(file, { start: cut });
    const whole = await read(file);
    expect([...head.scalars, ...tail.scalars]).toEqual(whole.scalars);
    expect(head.lines + tail.lines).toBe(whole.lines);
  });

  it('rejects a corrupt gzip stream instead of summarizing half a file silently', async () => {
    const file = path.join(dir, 'bad.ndjson.gz');
    const gz = gzipSync(Buffer.from('{"step":1,"x":1}\n'.repeat(1000)));
    fs.writeFileSync(file, gz.subarray(0, gz.length - 20));
    await expect(read(file)).rejects.toThrow(/unexpected end/i);
  });
});
