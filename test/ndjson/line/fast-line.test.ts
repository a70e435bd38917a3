/**
 * The fast path on its own: which lines it takes (returning true, with the values JSON.parse
 * would give) and which it hands to the slow path (returning false, having reported nothing).
 * The reader tests cannot tell the two apart, since the slow path reads the same lines the same way.
 */
import { describe, expect, it } from 'vitest';
import { FastLineParser } from '../../../src/ndjson/line/fast-line.js';
import type { MalformedLine, MetricVisitor, PhaseId } from '../../../src/ndjson/line/metric-visitor.js';
import { NameTable } from '../../../src/ndjson/line/name-table.js';

interface Seen {
  phase: PhaseId;
  name: string;
  run: string;
  step: number | bigint;
  ts: number;
  value: number;
}

function parser(): { parse: (line: string, pad?: string) => boolean; seen: Seen[] } {
  const names = new NameTable();
  const runs = new NameTable();
  const seen: Seen[] = [];
  const visitor: MetricVisitor = {
    scalar: (phase, name, run, step, ts, value) =>
      seen.push({ phase, name: names.name(name), run: runs.name(run), step, ts, value }),
    malformed: (line: MalformedLine) => {
      throw new Error(`the fast path never reports a malformed line (${line.reason})`);
    },
  };
  const fast = new FastLineParser(names, runs, visitor);
  // The line sits inside a larger buffer, between other bytes, as in the reader's chunks.
  const parse = (line: string, pad = 'xx'): boolean => {
    const buf = Buffer.from(`${pad}${line}${pad}`, 'utf8');
    const start = Buffer.byteLength(pad);
    return fast.parse(buf, start, start + Buffer.byteLength(line));
  };
  return { parse, seen };
}

const line = (fields: {
  ts?: string;
  run?: string;
  step?: string;
  name?: string;
  value?: string;
  tags?: string;
}) =>
  `{"v":1,"ts":${fields.ts ?? '1700000000.5'},"run_id":"${fields.run ?? 'r1'}","step":${fields.step ?? '3'},` +
  `"name":"${fields.name ?? 'loss'}","value":${fields.value ?? '0.25'},"tags":{"phase":"${fields.tags ?? 'train"'}}}`;

describe('the fast NDJSON line path', () => {
  it('takes a canonical scalar line and reports it once, with every field as JSON.parse reads it', () => {
    const { parse, seen } = parser();
    expect(parse(line({}))).toBe(true);
    expect(seen).toEqual([{ phase: 0, name: 'loss', run: 'r1', step: 3, ts: 1700000000.5, value: 0.25 }]);
  });

  it.each([
    ['train"', 0],
    ['eval"', 1],
    ['system"', 2],
  ] as const)('reads phase %s as phase id %i', (tags, phase) => {
    const { parse, seen } = parser();
    expect(parse(line({ tags }))).toBe(true);
    expect(seen[0]?.phase).toBe(phase);
  });

  it.each([
    ['"NaN"', NaN],
    ['"Infinity"', Infinity],
    ['"-Infinity"', -Infinity],
    ['-1.5e-3', -0.0015],
    ['0', 0],
  ])('reads the value %s', (text, value) => {
    const { parse, seen } = parser();
    expect(parse(line({ value: text }))).toBe(true);
    expect(seen[0]?.value).toBe(value);
  });

  it.each([
    ['0', 0],
    ['-7', -7],
    ['999999999999999', 999_999_999_999_999],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['-9007199254740991', Number.MIN_SAFE_INTEGER],
    ['9007199254740992', 9_007_199_254_740_992n],
    ['-9007199254740992', -9_007_199_254_740_992n],
    ['1000000000000000', 1_000_000_000_000_000],
    ['9223372036854775807', 9_223_372_036_854_775_807n],
    ['-9223372036854775808', -9_223_372_036_854_775_808n],
  ])('reads the step %s exactly, as a number while safe and a bigint beyond', (text, step) => {
    const { parse, seen } = parser();
    expect(parse(line({ step: text }))).toBe(true);
    expect(seen[0]?.step).toBe(step);
  });

  it.each([
    ['a step above int64', line({ step: '9223372036854775808' })],
    ['a step below int64', line({ step: '-9223372036854775809' })],
    ['a step with a leading zero', line({ step: '07' })],
    ['a step of just a minus', line({ step: '-' })],
    ['a fractional step', line({ step: '1.5' })],
    ['a string step', line({ step: '"3"' })],
    ['an escaped name', line({ name: 'a\\"b' })],
    ['a name with a control byte', line({ name: 'a\tb' })],
    ['an escaped run id', line({ run: 'r\\n1' })],
    ['a quoted value other than the three spellings', line({ value: '"nan"' })],
    ['a value that is not a number', line({ value: 'true' })],
    ['an unknown phase', line({ tags: 'test"' })],
    ['a phase string that never closes', line({ tags: '' })],
    ['a non-number ts', line({ ts: '"x"' })],
    ['a second phase tag', line({ tags: 'train","phase":"eval"' })],
    ['whitespace after a colon', line({}).replace('"step":', '"step": ')],
    ['another key order', line({}).replace('{"v":1,"ts":1700000000.5,', '{"ts":1700000000.5,"v":1,')],
    ['schema version 2', line({}).replace('"v":1', '"v":2')],
    ['bytes after the closing braces', `${line({})} `],
    ['a missing closing brace', line({}).slice(0, -1)],
    ['a single closing brace replaced', `${line({}).slice(0, -2)}]}`],
    ['a line cut inside the run id', line({}).slice(0, 30)],
    ['a line cut inside the name', line({}).slice(0, line({}).indexOf('loss') + 2)],
    ['an empty line', ''],
  ])('leaves %s to the slow path, reporting nothing', (_what, text) => {
    const { parse, seen } = parser();
    expect(parse(text)).toBe(false);
    expect(seen).toEqual([]);
  });

  it('stops at the end it is given, not at the end of the buffer', () => {
    const { seen } = parser();
    const names = new NameTable();
    const runs = new NameTable();
    const fast = new FastLineParser(names, runs, {
      scalar: (phase, name, run, step, ts, value) =>
        seen.push({ phase, name: names.name(name), run: runs.name(run), step, ts, value }),
      malformed: () => undefined,
    });
    const whole = Buffer.from(`${line({})}\n${line({ step: '4' })}`);
    // One byte short of the first line's end: its closing braces are not inside the range.
    expect(fast.parse(whole, 0, line({}).length - 1)).toBe(false);
    // The run id's closing quote lies past the end.
    const cut = line({}).indexOf('r1') + 2;
    expect(fast.parse(whole, 0, cut)).toBe(false);
    const cutName = line({}).indexOf('loss') + 4;
    expect(fast.parse(whole, 0, cutName)).toBe(false);
    expect(fast.parse(whole, 0, 8)).toBe(false);
    expect(seen).toEqual([]);
    expect(fast.parse(whole, line({}).length + 1, whole.length)).toBe(true);
    expect(seen.map((s) => s.step)).toEqual([4]);
  });

  it('takes extra scalar tags after the phase, including escaped keys and strings', () => {
    const { parse, seen } = parser();
    const tags = [
      'train","rank":0,"world_size":8',
      'train","host":"node-1","ok":true,"bad":false,"none":null',
      'eval","k\\"ey":"v\\\\al\\/ue\\b\\f\\n\\r\\t\\u00e9\\u00AF","n":-1.5e2',
    ];
    for (const tag of tags) expect(parse(line({ tags: tag }))).toBe(true);
    expect(seen.map((s) => s.phase)).toEqual([0, 0, 1]);
  });

  it.each([
    ['a nested object', 'train","obj":{"a":1}'],
    ['an array', 'train","arr":[1]'],
    ['a key without quotes', 'train",rank:0'],
    ['a key without a colon', 'train","rank"0'],
    ['a trailing comma', 'train","rank":0,'],
    ['a bad escape', 'train","k":"\\x"'],
    ['a short unicode escape', 'train","k":"\\u12g4"'],
    ['a unicode escape cut by the end', 'train","k":"\\u12'],
    ['a control byte in a tag string', 'train","k":"a\tb"'],
    ['a control byte in a tag key', 'train","a\tb":1'],
    ['a bare word', 'train","k":yes'],
    ['a phase key again after another tag', 'train","rank":0,"phase":"eval"'],
    ['a number without digits', 'train","k":-'],
    ['a tag string that never closes', 'train","k":"abc'],
    ['a bad unicode escape in a key after a number', 'train","a":1,"b\\u12g":2'],
  ])('leaves extra tags with %s to the slow path', (_what, tags) => {
    const { parse, seen } = parser();
    expect(parse(line({ tags }))).toBe(false);
    expect(seen).toEqual([]);
  });

  it('accepts a tag key that only starts like phase, and upper-case hex in escapes', () => {
    const { parse } = parser();
    expect(parse(line({ tags: 'train","phases":1,"phas":2,"x":"\\uABCD\\uabcd\\u0F9a"' }))).toBe(true);
  });

  it('interns names and run ids to the same ids whatever buffer they come from', () => {
    const { parse, seen } = parser();
    expect(parse(line({ name: 'ε-loss', run: 'run-α' }), 'a')).toBe(true);
    expect(parse(line({ name: 'ε-loss', run: 'run-α' }), 'bbbbbbb')).toBe(true);
    expect(parse(line({ name: 'acc', run: 'run-α' }), '')).toBe(true);
    expect(seen.map((s) => `${s.run}/${s.name}`)).toEqual(['run-α/ε-loss', 'run-α/ε-loss', 'run-α/acc']);
  });
});
