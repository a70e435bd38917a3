import { describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/formats/ndjson/parse-record.js';

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
