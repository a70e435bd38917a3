import { describe, expect, it } from 'vitest';
import { parseFlags, type FlagSpec } from '../../src/command-line/parse-flags.js';
import { UsageError } from '../../src/errors.js';

const SPECS: FlagSpec[] = [
  { flag: 'format', short: 'f', kind: 'string' },
  { flag: 'port', kind: 'integer', min: 0, max: 65535 },
  { flag: 'interval', kind: 'number', min: 0 },
  { flag: 'goal', kind: 'string', multiple: true },
  { flag: 'progress', kind: 'boolean', negatable: true },
  { flag: 'strict', kind: 'boolean' },
];

describe('parseFlags, the parser of both CLIs', () => {
  it('reads long, --flag=value, short, repeated and negated flags, and positionals', () => {
    const parsed = parseFlags(
      [
        'a',
        '--format=json',
        '-f',
        'csv',
        '--port',
        '80',
        '--goal',
        'x=min',
        '--goal=y=max',
        '--no-progress',
        'b',
      ],
      SPECS,
    );
    expect(Object.fromEntries(parsed.values)).toEqual({
      format: 'csv',
      port: 80,
      goal: ['x=min', 'y=max'],
      progress: false,
    });
    expect(parsed.positionals).toEqual(['a', 'b']);
    expect(parsed).toMatchObject({ help: false, version: false });
  });

  it('answers -h/--help and -V/--version wherever they stand', () => {
    expect(parseFlags(['x', '-V'], SPECS).version).toBe(true);
    expect(parseFlags(['--version'], SPECS).version).toBe(true);
    expect(parseFlags(['x', '-h'], SPECS).help).toBe(true);
  });

  it('takes a value that starts with a dash, then refuses it by range in one message', () => {
    expect(() => parseFlags(['--port', '-1'], SPECS)).toThrow(
      /^--port must be a whole number from 0 to 65535, got "-1"$/,
    );
    expect(() => parseFlags(['--interval', '-1'], SPECS)).toThrow(
      /^--interval must be a number >= 0, got "-1"$/,
    );
  });

  it('throws UsageError with a suggestion for an unknown flag, and names a missing value', () => {
    expect(() => parseFlags(['--fromat', 'x'], SPECS)).toThrow(UsageError);
    expect(() => parseFlags(['--fromat', 'x'], SPECS)).toThrow(
      /unknown option --fromat; did you mean --format\?/,
    );
    expect(() => parseFlags(['--port'], SPECS)).toThrow(/--port needs a value/);
    expect(() => parseFlags(['-x'], SPECS)).toThrow(/unknown option -x/);
    expect(() => parseFlags(['--strict=yes'], SPECS)).toThrow(/--strict takes no value/);
    expect(() => parseFlags(['--no-strict'], SPECS)).toThrow(/unknown option --no-strict/);
  });

  it('keeps everything after -- as positionals, dashes included', () => {
    expect(parseFlags(['--', '-V', '--port'], SPECS)).toMatchObject({
      positionals: ['-V', '--port'],
      version: false,
    });
  });
});
