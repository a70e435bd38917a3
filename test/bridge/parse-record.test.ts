import { describe, expect, it } from 'vitest';
import {
  MAX_NAMES_PER_LINE,
  parseRecordLine,
  quotePythonTokens,
} from '../../src/ndjson/line/parse-record.js';

describe('parseRecordLine', () => {
  it('reads a schema v1 scalar line with its phase, step and timestamp', () => {
    const result = parseRecordLine(
      '{"v":1,"ts":1700000000.5,"run_id":"r","step":7,"name":"loss","value":0.25,"tags":{"phase":"eval"}}',
    );
    expect(result).toEqual({
      ok: true,
      row: { phase: 'eval', step: 7, ts: 1700000000.5, runId: 'r', names: ['loss'], values: [0.25] },
    });
  });

  it('reads a system snapshot line as one row of flat keys', () => {
    const result = parseRecordLine(
      '{"v":1,"ts":1,"run_id":"r","step":2,"name":"system","values":{"cpu_percent":5,"gpu_0_temp_c":"NaN"},"tags":{"phase":"system"}}',
    );
    expect(result.ok && result.row.phase).toBe('system');
    expect(result.ok && result.row.names).toEqual(['cpu_percent', 'gpu_0_temp_c']);
    expect(result.ok && Number.isNaN(result.row.values[1])).toBe(true);
  });

  it('reads plain flat rows: numeric keys are metrics, phase and step describe the row', () => {
    expect(parseRecordLine('{"step": 3, "loss": 0.2, "acc": 0.9, "phase": "eval", "note": "x"}')).toEqual({
      ok: true,
      row: {
        phase: 'eval',
        step: 3,
        ts: undefined,
        runId: undefined,
        names: ['loss', 'acc'],
        values: [0.2, 0.9],
      },
    });
    expect(parseRecordLine('{"loss": "-Infinity"}')).toMatchObject({
      ok: true,
      row: { step: undefined, values: [-Infinity] },
    });
  });

  it('keeps steps beyond 2^53 exact', () => {
    const result = parseRecordLine('{"step": 9223372036854775807, "loss": 1}');
    expect(result.ok && result.row.step).toBe(9223372036854775807n);
  });

  it('names the field that is wrong', () => {
    expect(parseRecordLine('{"step": 1.5, "loss": 1}')).toMatchObject({ ok: false, field: 'step' });
    expect(parseRecordLine('{"step": 99999999999999999999, "loss": 1}')).toMatchObject({
      ok: false,
      field: 'step',
    });
    expect(parseRecordLine('{"name": "loss", "value": "high"}')).toMatchObject({ ok: false, field: 'value' });
    expect(parseRecordLine('{"loss": 1, "phase": "test"}')).toMatchObject({ ok: false, field: 'phase' });
    expect(parseRecordLine('{"ts": "yesterday", "loss": 1}')).toMatchObject({ ok: false, field: 'ts' });
    expect(parseRecordLine('{"loss": 1')).toMatchObject({ ok: false, field: 'line' });
    expect(parseRecordLine('[1,2]')).toMatchObject({ ok: false, field: 'line' });
    expect(parseRecordLine('{"run_id": 7, "loss": 1}')).toMatchObject({ ok: false, field: 'run_id' });
    // A quoted bad value is cut short: a malformed line can be megabytes long.
    const huge = parseRecordLine(`{"step": "${'x'.repeat(100_000)}", "loss": 1}`);
    expect(!huge.ok && huge.reason.length).toBeLessThan(120);
    expect(parseRecordLine('{"note": "no numbers"}')).toMatchObject({ ok: false, field: 'line' });
  });
});

describe('parseRecordLine edges', () => {
  it('reads a null step as no step, and an integer step at 2^53 and beyond from its digits', () => {
    expect(parseRecordLine('{"step": null, "loss": 1}')).toMatchObject({
      ok: true,
      row: { step: undefined },
    });
    expect(parseRecordLine('{"step": 9007199254740991, "loss": 1}')).toMatchObject({
      ok: true,
      row: { step: 9007199254740991 },
    });
    expect(parseRecordLine('{"step" : 9007199254740993 , "loss": 1}')).toMatchObject({
      ok: true,
      row: { step: 9007199254740993n },
    });
    expect(parseRecordLine('{"loss": 1, "step":-9223372036854775808}')).toMatchObject({
      ok: true,
      row: { step: -9223372036854775808n },
    });
  });

  it('reads a step beyond 2^53 from the row\'s own "step" key, not a "step" nested in tags or an array', () => {
    // Regression: the digits were taken from the first "step": in the text, so a tags object
    // written before the row's step gave the row that tag's step.
    for (const [text, step] of [
      ['{"tags":{"phase":"train","step":5},"step":9007199254740993,"loss":1}', 9007199254740993n],
      ['{"a":[{"step":3}],"step":-9007199254740995,"loss":1}', -9007199254740995n],
      ['{"note":"\\"step\\":5,","step":9007199254740993,"loss":1}', 9007199254740993n],
      ['{"step":9007199254740993,"loss":1,"tags":{"step":5}}', 9007199254740993n],
      ['{"name":"step","value":1,"step":9007199254740993}', 9007199254740993n],
      ['{"step":9007199254740993,"name":"step","value":1}', 9007199254740993n],
      ['{"note":"\\"","step":9007199254740993,"loss":1}', 9007199254740993n],
      // Duplicate keys: JSON.parse keeps the last, and so must the digits.
      ['{"step":1,"step":9007199254740993,"loss":1}', 9007199254740993n],
      ['{"step":9007199254740993,"step" : 9007199254740995,"loss":1}', 9007199254740995n],
    ] as const) {
      expect(parseRecordLine(text), text).toMatchObject({ ok: true, row: { step } });
    }
  });

  it('refuses a step that is not an integer even when a nested "step" is one', () => {
    for (const text of [
      '{"step":1.5,"loss":1,"tags":{"step":7}}',
      '{"step":"3","tags":{"step":7},"loss":1}',
      '{"step":9007199254740993,"step":1e300,"loss":1}',
    ]) {
      expect(parseRecordLine(text), text).toMatchObject({ ok: false, field: 'step' });
    }
  });

  it('refuses steps just outside int64, written as a float, or a string', () => {
    for (const step of ['9223372036854775808', '-9223372036854775809', '1e300', '"3"', 'true']) {
      expect(parseRecordLine(`{"step": ${step}, "loss": 1}`)).toEqual({
        ok: false,
        field: 'step',
        reason: `must be an integer in int64 range, got ${step.startsWith('"') || step === 'true' ? step : JSON.stringify(Number(step))}`,
      });
    }
  });

  it('quotes a bad value in full up to 60 characters, and cuts it to 57 plus "..." beyond', () => {
    const sixty = `"${'a'.repeat(58)}"`;
    expect(parseRecordLine(`{"name": "x", "value": ${sixty}}`)).toEqual({
      ok: false,
      field: 'value',
      reason: `must be a number or "NaN"/"Infinity"/"-Infinity", got ${sixty}`,
    });
    const sixtyOne = `"${'b'.repeat(59)}"`;
    expect(parseRecordLine(`{"name": "x", "value": ${sixtyOne}}`)).toEqual({
      ok: false,
      field: 'value',
      reason: `must be a number or "NaN"/"Infinity"/"-Infinity", got ${sixtyOne.slice(0, 57)}...`,
    });
  });

  it('takes the time from ts, then timestamp, then time, and refuses a time that is not finite', () => {
    expect(parseRecordLine('{"ts": 5, "timestamp": 6, "time": 7, "x": 1}')).toMatchObject({ row: { ts: 5 } });
    expect(parseRecordLine('{"timestamp": 6, "time": 7, "x": 1}')).toMatchObject({ row: { ts: 6 } });
    expect(parseRecordLine('{"time": 7, "x": 1}')).toMatchObject({ row: { ts: 7, names: ['x'] } });
    expect(parseRecordLine('{"ts": 1e400, "x": 1}')).toEqual({
      ok: false,
      field: 'ts',
      reason: 'must be Unix seconds, got null',
    });
    expect(parseRecordLine('{"ts": Infinity, "x": 1}')).toEqual({
      ok: false,
      field: 'ts',
      reason: 'must be Unix seconds, got "Infinity"',
    });
  });

  it('takes the phase from tags before the top level, and ignores tags that are not an object', () => {
    expect(parseRecordLine('{"tags": {"phase": "eval"}, "phase": "system", "x": 1}')).toMatchObject({
      row: { phase: 'eval' },
    });
    expect(parseRecordLine('{"tags": {"rank": 0}, "phase": "system", "x": 1}')).toMatchObject({
      row: { phase: 'system' },
    });
    expect(parseRecordLine('{"tags": ["phase"], "phase": "eval", "x": 1}')).toMatchObject({
      row: { phase: 'eval' },
    });
    expect(parseRecordLine('{"tags": null, "x": 1}')).toMatchObject({ row: { phase: 'train' } });
    expect(parseRecordLine('{"tags": "phase", "x": 1}')).toMatchObject({ row: { phase: 'train' } });
    expect(parseRecordLine('{"tags": {"phase": 1}, "x": 1}')).toEqual({
      ok: false,
      field: 'phase',
      reason: 'must be train, eval or system, got 1',
    });
  });

  it('reads the run id, and refuses one that is not a string', () => {
    expect(parseRecordLine('{"run_id": "r-1", "x": 1}')).toMatchObject({ row: { runId: 'r-1' } });
    expect(parseRecordLine('{"run_id": null, "x": 1}')).toEqual({
      ok: false,
      field: 'run_id',
      reason: 'must be a string, got null',
    });
  });

  it('reads a scalar line only when name is a string and value is present; otherwise as a flat row', () => {
    expect(parseRecordLine('{"name": 3, "value": 1}')).toMatchObject({
      ok: true,
      row: { names: ['name', 'value'] },
    });
    expect(parseRecordLine('{"name": "loss", "val": 2}')).toMatchObject({
      ok: true,
      row: { names: ['val'] },
    });
  });

  it('gives a snapshot the system phase unless the line names another, and names a bad key', () => {
    expect(parseRecordLine('{"values": {"a": 1, "b": "NaN"}}')).toMatchObject({
      ok: true,
      row: { phase: 'system', names: ['a', 'b'], values: [1, NaN] },
    });
    expect(parseRecordLine('{"phase": "eval", "values": {"a": 1}}')).toMatchObject({
      row: { phase: 'eval' },
    });
    expect(parseRecordLine('{"values": {"a": 1, "b": "x"}}')).toEqual({
      ok: false,
      field: 'values.b',
      reason: 'must be a number, got "x"',
    });
    // An array of values is no snapshot: the line is a flat row without metrics.
    expect(parseRecordLine('{"values": [1, 2]}')).toMatchObject({ ok: false, field: 'line' });
    expect(parseRecordLine('{"values": null, "x": 2}')).toMatchObject({ ok: true, row: { names: ['x'] } });
  });

  it(`takes up to ${MAX_NAMES_PER_LINE} names in a snapshot or a flat row, and refuses one more`, () => {
    const keys = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => `"${prefix}${i}": ${i}`).join(', ');
    const snapshot = (n: number) => `{"values": {${keys(n, 'k')}}}`;
    expect(parseRecordLine(snapshot(MAX_NAMES_PER_LINE))).toMatchObject({ ok: true });
    expect(parseRecordLine(snapshot(MAX_NAMES_PER_LINE + 1))).toEqual({
      ok: false,
      field: 'line',
      reason: `has ${MAX_NAMES_PER_LINE + 1} keys, more than the ${MAX_NAMES_PER_LINE} metric names a line may carry`,
    });
    // A flat row may also carry the 9 keys that describe it.
    const reserved =
      '"step": 1, "ts": 2, "phase": "eval", "run_id": "r", "tags": {}, "v": 1, "time": 3, "timestamp": 4, "epoch_time": 5';
    const flat = (n: number) => `{${reserved}, ${keys(n, 'm')}}`;
    const full = parseRecordLine(flat(MAX_NAMES_PER_LINE));
    expect(full.ok && full.row.names.length).toBe(MAX_NAMES_PER_LINE);
    expect(full.ok && full.row.names[0]).toBe('m0');
    expect(parseRecordLine(flat(MAX_NAMES_PER_LINE + 1))).toMatchObject({ ok: false, field: 'line' });
  });

  it('refuses JSON that is not an object, naming the line', () => {
    for (const line of ['null', '3', '"text"', '[]']) {
      expect(parseRecordLine(line)).toEqual({ ok: false, field: 'line', reason: 'not a JSON object' });
    }
  });

  it('reads the bare NaN and Infinity tokens Python writes, and keeps the JSON error for other broken lines', () => {
    expect(parseRecordLine('{"step": 1, "loss": NaN, "acc": -Infinity, "x": Infinity}')).toMatchObject({
      ok: true,
      row: { names: ['loss', 'acc', 'x'], values: [NaN, -Infinity, Infinity] },
    });
    const broken = parseRecordLine('{"loss": NaN,');
    let expected = '';
    try {
      JSON.parse('{"loss": NaN,');
    } catch (error) {
      expected = (error as Error).message;
    }
    expect(broken).toEqual({ ok: false, field: 'line', reason: `not JSON (${expected})` });
  });
});

describe('string values named like Object members', () => {
  it('are not numbers: "toString" and "constructor" are skipped in a flat row and refused as a scalar value', () => {
    expect(parseRecordLine('{"a": "toString", "b": "constructor", "c": "__proto__", "loss": 1}')).toEqual({
      ok: true,
      row: { phase: 'train', step: undefined, ts: undefined, runId: undefined, names: ['loss'], values: [1] },
    });
    expect(parseRecordLine('{"name": "loss", "value": "valueOf"}')).toMatchObject({
      ok: false,
      field: 'value',
    });
    expect(parseRecordLine('{"values": {"gpu": "hasOwnProperty"}}')).toMatchObject({
      ok: false,
      field: 'values.gpu',
    });
  });
});

describe('quotePythonTokens', () => {
  it('quotes bare NaN, Infinity and -Infinity outside strings', () => {
    expect(quotePythonTokens('{"a": NaN, "b": -Infinity, "c": [Infinity,NaN]}')).toBe(
      '{"a": "NaN", "b": "-Infinity", "c": ["Infinity","NaN"]}',
    );
  });

  it('leaves the tokens inside strings alone, escaped quotes included', () => {
    expect(quotePythonTokens(String.raw`{"NaN": "Infinity", "k\\": NaN, "q\"NaN": 1}`)).toBe(
      String.raw`{"NaN": "Infinity", "k\\": "NaN", "q\"NaN": 1}`,
    );
  });

  it('returns undefined for a line without a bare token', () => {
    expect(quotePythonTokens('{"a": 1, "NaN": "-Infinity"}')).toBeUndefined();
    expect(quotePythonTokens('')).toBeUndefined();
  });
});
