import { describe, expect, it } from 'vitest';
import { encodeStep, encodeTs, encodeValue, LineEncoder } from '../../../src/ndjson/line/encode-line.js';

describe('NDJSON line encoding', () => {
  it('spells non-finite values as the schema strings and keeps -0', () => {
    expect([NaN, Infinity, -Infinity, -0, 0, 1.5, -2e-7].map(encodeValue)).toEqual([
      '"NaN"',
      '"Infinity"',
      '"-Infinity"',
      '-0',
      '0',
      '1.5',
      '-2e-7',
    ]);
  });

  it('writes int64 steps exactly, including those beyond 2^53', () => {
    expect(encodeStep(2n ** 63n - 1n)).toBe('9223372036854775807');
    expect(encodeStep(-(2n ** 63n))).toBe('-9223372036854775808');
    expect(encodeStep(2n ** 62n + 1n)).toBe('4611686018427387905');
    expect(encodeStep(42)).toBe('42');
  });

  it('rounds timestamps to the microsecond', () => {
    expect(encodeTs(1_700_000_000.1234567)).toBe('1700000000.123457');
    expect(encodeTs(12.5)).toBe('12.5');
  });

  it('writes one line per scalar with the run id, step, phase and extra tags, byte for byte', () => {
    const encoder = new LineEncoder({ runId: 'r"1', extraTags: { rank: 3 } });
    const row = {
      phase: 'eval' as const,
      step: 2n ** 62n + 1n,
      ts: 10.0000004,
      names: ['loss', 'a"b'],
      values: [NaN, -0],
    };
    expect(encoder.encodeRow(row)).toBe(
      '{"v":1,"ts":10,"run_id":"r\\"1","step":4611686018427387905,"name":"loss","value":"NaN","tags":{"phase":"eval","rank":3}}\n' +
        '{"v":1,"ts":10,"run_id":"r\\"1","step":4611686018427387905,"name":"a\\"b","value":-0,"tags":{"phase":"eval","rank":3}}\n',
    );
    // Cached fragments give the same bytes the second time.
    expect(encoder.encodeRow(row)).toBe(encoder.encodeRow({ ...row }));
  });

  it('writes a system sample as one snapshot line with all its values', () => {
    const encoder = new LineEncoder({ runId: 'r1' });
    const line = encoder.encodeRow({
      phase: 'system',
      step: 7,
      ts: 5,
      names: ['cpu_percent', 'gpu_0_power_w'],
      values: [12.5, Infinity],
    });
    expect(line).toBe(
      '{"v":1,"ts":5,"run_id":"r1","step":7,"name":"system","values":{"cpu_percent":12.5,"gpu_0_power_w":"Infinity"},"tags":{"phase":"system"}}\n',
    );
    expect(encoder.encodeRow({ phase: 'train', step: 1, ts: 5, names: ['loss'], values: [0.5] })).toBe(
      '{"v":1,"ts":5,"run_id":"r1","step":1,"name":"loss","value":0.5,"tags":{"phase":"train"}}\n',
    );
  });

  it('records where each line it writes ends, counted from where the row starts in the chunk', () => {
    const encoder = new LineEncoder({ runId: 'r1' });
    const ends = { at: [] as number[], count: 0 };
    let chunk = encoder.encodeRow(
      { phase: 'train', step: 1, ts: 5, names: ['loss', 'lr/ü'], values: [0.5, NaN] },
      ends,
      0,
    );
    chunk += encoder.encodeRow(
      { phase: 'system', step: 1, ts: 5, names: ['cpu_percent', 'mem'], values: [1, 2] },
      ends,
      chunk.length,
    );
    chunk += encoder.encodeRow(
      { phase: 'eval', step: 2, ts: 6, names: ['acc'], values: [-0] },
      ends,
      chunk.length,
    );
    const newlines = [...chunk.matchAll(/\n/g)].map((m) => (m.index as number) + 1);
    expect(newlines).toHaveLength(4);
    expect({ count: ends.count, at: ends.at }).toEqual({ count: 4, at: newlines });
  });
});
