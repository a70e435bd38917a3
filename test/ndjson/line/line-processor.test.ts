/**
 * LineProcessor directly: every line counted (blank ones too), every malformed line counted once
 * and reported with its 1-based line number, its byte offset in the file, the field and the reason.
 */
import { describe, expect, it } from 'vitest';
import { LineProcessor } from '../../../src/ndjson/line/line-processor.js';
import type { MalformedLine, MetricVisitor } from '../../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../../src/ndjson/line/name-table.js';

function processor(): { lines: LineProcessor; values: number[]; faults: MalformedLine[] } {
  const values: number[] = [];
  const faults: MalformedLine[] = [];
  const visitor: MetricVisitor = {
    scalar: (_phase, _name, _run, _step, _ts, value) => values.push(value),
    malformed: (line) => faults.push(line),
  };
  return { lines: new LineProcessor(visitor, new NameTable(), new NameTable()), values, faults };
}

const FAST = '{"v":1,"ts":1,"run_id":"r","step":1,"name":"loss","value":1,"tags":{"phase":"train"}}';
const SLOW = '{"step": 2, "loss": 2}';

describe('LineProcessor', () => {
  it('reads fast and slow lines, skips blank and CRLF-blank lines, and counts every line', () => {
    const { lines, values, faults } = processor();
    const text = `${FAST}\n\n${SLOW}\r\n\r\n{"loss": 3}\r\n`;
    const buf = Buffer.from(`ignored${text}tail`);
    // Only buf[7, 7 + text.length) is handed over, at file offset 1000.
    lines.completeLines(buf.subarray(7), text.length, 1000);
    expect(values).toEqual([1, 2, 3]);
    expect(faults).toEqual([]);
    expect(lines.lines).toBe(5);
    expect(lines.malformed).toBe(0);
  });

  it('reports each malformed line once with its line number, file offset, field and reason', () => {
    const { lines, values, faults } = processor();
    const first = `${FAST}\n{"step": 1.5, "loss": 1}\n`;
    const second = `not json\n${SLOW}\n{"loss": 1, "phase": "test"}\r\n`;
    lines.completeLines(Buffer.from(first), Buffer.byteLength(first), 0);
    lines.completeLines(Buffer.from(second), Buffer.byteLength(second), Buffer.byteLength(first));
    expect(values).toEqual([1, 2]);
    expect(lines.lines).toBe(5);
    expect(lines.malformed).toBe(3);
    expect(faults.map(({ line, offset, field }) => ({ line, offset, field }))).toEqual([
      { line: 2, offset: FAST.length + 1, field: 'step' },
      { line: 3, offset: Buffer.byteLength(first), field: 'line' },
      { line: 5, offset: Buffer.byteLength(first) + 9 + SLOW.length + 1, field: 'phase' },
    ]);
    expect(faults[0]?.reason).toBe('must be an integer in int64 range, got 1.5');
    expect(faults[1]?.reason).toMatch(/^not JSON \(/);
  });

  it('faults only the lines with invalid UTF-8 when a chunk holds some, reading the others', () => {
    const { lines, values, faults } = processor();
    const buf = Buffer.concat([
      Buffer.from(`${SLOW}\n{"loss": "`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`"}\n{"bad": 1}\n`),
    ]);
    lines.completeLines(buf, buf.length, 10);
    expect(values).toEqual([2, 1]);
    expect(faults).toEqual([
      { line: 2, offset: 10 + SLOW.length + 1, field: 'line', reason: 'invalid UTF-8' },
    ]);
    expect(lines.malformed).toBe(1);
  });

  it('reads multi-byte UTF-8 names in a valid chunk', () => {
    const { lines, values, faults } = processor();
    const text = '{"step": 1, "précision": 0.5}\n';
    lines.completeLines(Buffer.from(text), Buffer.byteLength(text), 0);
    expect(values).toEqual([0.5]);
    expect(faults).toEqual([]);
  });

  it('reads an unfinished last line that is whole, and says "truncated" when it is not', () => {
    const whole = processor();
    whole.lines.lastLine(Buffer.from(`${SLOW}junk-after`), SLOW.length, 50);
    expect(whole.values).toEqual([2]);
    expect(whole.lines.lines).toBe(1);

    const cut = processor();
    const text = '{"step": 3, "lo';
    cut.lines.lastLine(Buffer.from(text), text.length, 50);
    expect(cut.faults).toHaveLength(1);
    expect(cut.faults[0]).toMatchObject({ line: 1, offset: 50, field: 'line' });
    expect(cut.faults[0]?.reason).toMatch(/^truncated last line \(no newline\): not JSON \(/);
  });

  it('checks an unfinished last line for invalid UTF-8, and counts nothing for an empty one', () => {
    const { lines, faults } = processor();
    lines.lastLine(Buffer.alloc(0), 0, 0);
    expect(lines.lines).toBe(0);
    lines.lastLine(Buffer.from([0x7b, 0xc3]), 2, 7);
    expect(faults).toEqual([{ line: 1, offset: 7, field: 'line', reason: 'invalid UTF-8' }]);
  });

  it('counts a line too long to hold as a line and as malformed, at its offset', () => {
    const { lines, faults } = processor();
    lines.completeLines(Buffer.from(`${SLOW}\n`), SLOW.length + 1, 0);
    lines.tooLong(4096, 1024);
    expect(lines.lines).toBe(2);
    expect(lines.malformed).toBe(1);
    expect(faults).toEqual([
      { line: 2, offset: 4096, field: 'line', reason: 'longer than 1024 bytes; skipped' },
    ]);
  });
});
