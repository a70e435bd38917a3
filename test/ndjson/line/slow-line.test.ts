import { describe, expect, it } from 'vitest';
import type { MetricVisitor } from '../../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../../src/ndjson/line/name-table.js';
import { SlowLineParser } from '../../../src/ndjson/line/slow-line.js';

describe('the slow NDJSON line path', () => {
  it('reports a line without a run id as run -1 and one with an id by its interned id, with NaN for a missing step and time', () => {
    const runs = new NameTable();
    const names = new NameTable();
    const seen: Array<[number, number, string, number | bigint, number, number]> = [];
    const visitor: MetricVisitor = {
      scalar: (phase, name, run, step, ts, value) =>
        seen.push([phase, run, names.name(name), step, ts, value]),
      malformed: () => undefined,
    };
    const slow = new SlowLineParser(names, runs, visitor);
    expect(slow.parse('{"run_id": "a", "step": 1, "ts": 5, "loss": 1}')).toBeUndefined();
    expect(slow.parse('{"run_id": "b", "step": 2, "phase": "eval", "acc": 2}')).toBeUndefined();
    expect(slow.parse('{"values": {"cpu": 3}}')).toBeUndefined();
    expect(slow.parse('{"step": 1.5, "x": 1}')).toEqual({
      field: 'step',
      reason: 'must be an integer in int64 range, got 1.5',
    });
    expect(seen).toEqual([
      [0, 0, 'loss', 1, 5, 1],
      [1, 1, 'acc', 2, NaN, 2],
      [2, -1, 'cpu', NaN, NaN, 3],
    ]);
  });
});
