/**
 * The fast path against the slow path, byte by byte: every canonical line is damaged at each byte
 * (replaced, dropped, or cut short while the rest of the line stays in the buffer past `end`), and
 * whenever the fast path takes a damaged line, JSON.parse's reading of the same bytes
 * (parseRecordLine) must accept it and give the same scalar. The hand-picked cases in
 * fast-line.test.ts name the behaviours; this sweep finds a check the fast path skips anywhere.
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { FastLineParser } from '../../../src/ndjson/line/fast-line.js';
import type { MetricVisitor, PhaseId } from '../../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../../src/ndjson/line/name-table.js';
import { parseRecordLine } from '../../../src/ndjson/line/parse-record.js';

interface Scalar {
  phase: string;
  name: string;
  run: string | undefined;
  step: string;
  ts: number | undefined;
  value: number;
}

const PHASES = ['train', 'eval', 'system'] as const;

function fastReader(): (buf: Buffer, start: number, end: number) => Scalar[] | false {
  const names = new NameTable();
  const runs = new NameTable();
  let seen: Scalar[] = [];
  const visitor: MetricVisitor = {
    scalar: (phase: PhaseId, name, run, step, ts, value) =>
      seen.push({
        phase: PHASES[phase],
        name: names.name(name),
        run: run < 0 ? undefined : runs.name(run),
        step: String(step),
        ts: Number.isNaN(ts) ? undefined : ts,
        value,
      }),
    malformed: (line) => {
      throw new Error(`the fast path never reports a malformed line (${line.reason})`);
    },
  };
  const fast = new FastLineParser(names, runs, visitor);
  return (buf, start, end) => {
    seen = [];
    return fast.parse(buf, start, end) ? seen : false;
  };
}

function slowReading(text: string): Scalar[] | false {
  const result = parseRecordLine(text);
  if (!result.ok) return false;
  const { row } = result;
  return row.names.map((name, i) => ({
    phase: row.phase,
    name,
    run: row.runId,
    step: String(row.step),
    ts: row.ts,
    value: row.values[i] as number,
  }));
}

/** Lines our writers produce, covering each branch of the fast path. */
const CANONICAL = [
  '{"v":1,"ts":1700000000.5,"run_id":"r1","step":3,"name":"loss","value":0.25,"tags":{"phase":"train"}}',
  '{"v":1,"ts":1,"run_id":"run α","step":-12,"name":"eval/acc top1","value":"NaN","tags":{"phase":"eval"}}',
  '{"v":1,"ts":2e9,"run_id":"r","step":9223372036854775807,"name":"g","value":"Infinity","tags":{"phase":"system"}}',
  '{"v":1,"ts":0,"run_id":"x~y","step":-9007199254740993,"name":"n","value":"-Infinity","tags":{"phase":"train"}}',
  '{"v":1,"ts":3,"run_id":"r","step":123456789012345,"name":"lr","value":-1.5e-3,"tags":{"phase":"train","rank":0,"world_size":8}}',
  '{"v":1,"ts":4,"run_id":"r","step":0,"name":"m","value":7,"tags":{"phase":"eval","host":"node 1","ok":true,"bad":false,"none":null}}',
  '{"v":1,"ts":5,"run_id":"r","step":1,"name":"m","value":1,"tags":{"phase":"train","k\\"ey":"v\\\\a\\/l\\b\\f\\n\\r\\t\\u00e9\\uABcd"}}',
];

/** Bytes that each mean something to a JSON reader, plus plain ones. */
const REPLACEMENTS = [...'"\\{}[],:0195-+.eEx tfnu'].map((c) => c.charCodeAt(0)).concat([0x1f, 0xc3]);

/** Every damaged form of `line`, as the text the slow path reads. */
function* damaged(line: string): Generator<string> {
  const bytes = Buffer.from(line, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    for (const r of REPLACEMENTS) {
      if (bytes[i] === r) continue;
      const copy = Buffer.from(bytes);
      copy[i] = r;
      yield copy.toString('latin1');
    }
    yield Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]).toString('latin1');
  }
}

/**
 * Damage is byte-level, so the text is carried as latin1 (one char per byte). The reader checks
 * UTF-8 before either path, so damaged lines that are not UTF-8 are left out of the sweep.
 */
const asBuffer = (latin1: string): Buffer => Buffer.from(latin1, 'latin1');

describe('the fast NDJSON line path against JSON.parse, byte by byte', () => {
  it('takes every canonical line, reading what JSON.parse reads', () => {
    const read = fastReader();
    for (const line of CANONICAL) {
      const buf = Buffer.from(line, 'utf8');
      const fast = read(buf, 0, buf.length);
      expect(fast, line).not.toBe(false);
      expect(fast, line).toEqual(slowReading(line));
    }
  });

  it('never takes a damaged line JSON.parse reads differently', () => {
    const read = fastReader();
    let taken = 0;
    let tried = 0;
    for (const line of CANONICAL) {
      for (const text of damaged(line)) {
        const buf = asBuffer(text);
        if (!isUtf8(buf)) continue;
        tried++;
        const fast = read(buf, 0, buf.length);
        if (fast === false) continue;
        taken++;
        expect(fast, text).toEqual(slowReading(buf.toString('utf8')));
      }
    }
    // The sweep must exercise both outcomes: damage in a number or a name is still a valid line.
    expect(tried).toBeGreaterThan(10_000);
    expect(taken).toBeGreaterThan(500);
  });

  it('never reads past the end it is given, whatever follows in the buffer', () => {
    const read = fastReader();
    for (const line of CANONICAL) {
      // The whole line stays in the buffer; only `end` moves. What lies past it must not count.
      const buf = Buffer.from(`${line}}}"}}`, 'utf8');
      const whole = Buffer.byteLength(line);
      for (let end = 0; end < whole; end++) {
        const fast = read(buf, 0, end);
        if (fast === false) continue;
        expect(fast, `${line} cut at ${end}`).toEqual(slowReading(buf.toString('utf8', 0, end)));
      }
    }
  });

  it('leaves no position behind from one line for the next when it refuses a run id', () => {
    // The parser keeps scratch positions in fields between calls. A run id it refuses must end
    // the attempt, even when the previous line's last string closed exactly where this line's
    // run id closes.
    const read = fastReader();
    const first = CANONICAL[0] as string;
    const head = first.slice(0, first.indexOf('"run_id":"') + '"run_id":"'.length);
    const nameClose = first.indexOf('"', first.indexOf('"name":"') + '"name":"'.length);
    const rest = first.slice(first.indexOf('","step":'));
    // A raw control byte, and two escapes the fast path does not decode.
    for (const opening of ['\u0001', '\\n', '\\u0041']) {
      const second = `${head}${opening.padEnd(nameClose - head.length, 'a')}${rest}`;
      expect(second.indexOf('","step":')).toBe(nameClose);
      expect(read(Buffer.from(first), 0, first.length)).not.toBe(false);
      expect(read(Buffer.from(second), 0, Buffer.byteLength(second)), second).toBe(false);
    }
  });
});
