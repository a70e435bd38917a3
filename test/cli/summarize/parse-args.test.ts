import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { parseSummarizeArgs } from '../../../src/summarize/parse-args.js';

describe('parseSummarizeArgs', () => {
  it('takes inputs, format, output, goals, strictness and jobs', () => {
    const args = parseSummarizeArgs([
      'a.ndjson',
      'runs/',
      '-f',
      'csv',
      '--out=x.csv',
      '--goal',
      'bleu=max',
      '--goal=wer=min',
      '--strict',
      '-j',
      '2',
    ]);
    expect(args).toMatchObject({
      inputs: ['a.ndjson', 'runs/'],
      format: 'csv',
      out: 'x.csv',
      strict: true,
      jobs: 2,
      compare: undefined,
    });
    expect([...args.goals]).toEqual([
      ['bleu', 'max'],
      ['wer', 'min'],
    ]);
  });

  it('takes --compare with any number of runs from two up, the first being the baseline', () => {
    expect(parseSummarizeArgs(['--compare', 'a', 'b']).compare).toEqual(['a', 'b']);
    expect(parseSummarizeArgs(['--compare', 'a', 'b', 'c', 'd']).compare).toEqual(['a', 'b', 'c', 'd']);
    expect(parseSummarizeArgs(['a', '--compare', 'b']).compare).toEqual(['a', 'b']);
    expect(() => parseSummarizeArgs(['--compare', 'a'])).toThrow(/at least two runs/);
  });

  it('suggests the closest option for a typo', () => {
    expect(() => parseSummarizeArgs(['a', '--fromat', 'json'])).toThrow(/did you mean --format\?/);
  });

  it('treats everything after -- as an input, even names starting with a dash', () => {
    expect(parseSummarizeArgs(['--', '-weird.ndjson']).inputs).toEqual(['-weird.ndjson']);
  });

  it('throws UsageError with code CLI_USAGE for a bad --jobs', () => {
    try {
      parseSummarizeArgs(['a', '--jobs', '0']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).code).toBe('CLI_USAGE');
      expect((error as Error).message).toMatch(/--jobs 0 must be a whole number/);
    }
  });

  it('returns help without requiring inputs', () => {
    expect(parseSummarizeArgs(['--help']).help).toBe(true);
  });
});
