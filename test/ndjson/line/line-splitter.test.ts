import { describe, expect, it } from 'vitest';
import { splitLines } from '../../../src/ndjson/line/line-splitter.js';

const text = (lines: Buffer[]): string[] => lines.map((line) => line.toString('utf8'));

describe('splitLines', () => {
  it('returns the lines of a buffer without their newline or carriage return', () => {
    const buf = Buffer.from('a\r\nbb\n\n\r\nc\rd\n');
    expect(text(splitLines(buf, buf.length))).toEqual(['a', 'bb', '', '', 'c\rd']);
  });

  it('reads only up to the end it is given, and takes an unterminated last line as a line', () => {
    const buf = Buffer.from('one\ntwo\nthree');
    expect(text(splitLines(buf, 8))).toEqual(['one', 'two']);
    expect(text(splitLines(buf, buf.length))).toEqual(['one', 'two', 'three']);
    expect(text(splitLines(buf, 0))).toEqual([]);
  });
});
