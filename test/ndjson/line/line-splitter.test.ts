import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/ndjson/line/line-splitter.js';

const text = (lines: Buffer[]): string[] => lines.map((line) => line.toString('utf8'));

describe('LineSplitter', () => {
  it('returns the complete lines of a chunk without their newline or carriage return', () => {
    const splitter = new LineSplitter();
    expect(text(splitter.push(Buffer.from('a\r\nbb\n\n\r\nc\rd\n')))).toEqual(['a', 'bb', '', '', 'c\rd']);
    expect(splitter.pendingBytes).toBe(0);
    expect(splitter.reset()).toBeUndefined();
  });

  it('keeps a partial last line until its newline arrives, across several chunks', () => {
    const splitter = new LineSplitter();
    expect(text(splitter.push(Buffer.from('first\nsec')))).toEqual(['first']);
    expect(splitter.pendingBytes).toBe(3);
    expect(text(splitter.push(Buffer.from('on')))).toEqual([]);
    expect(splitter.pendingBytes).toBe(5);
    expect(text(splitter.push(Buffer.from('d\r')))).toEqual([]);
    expect(text(splitter.push(Buffer.from('\nthird\n')))).toEqual(['second', 'third']);
    expect(splitter.pendingBytes).toBe(0);
  });

  it('keeps its own copy of the partial line, so the caller may reuse its chunk buffer', () => {
    const splitter = new LineSplitter();
    const chunk = Buffer.from('x\nabc');
    splitter.push(chunk);
    chunk.fill(0x7a);
    expect(text(splitter.push(Buffer.from('\n')))).toEqual(['abc']);
  });

  it('hands back and drops the unfinished line on reset', () => {
    const splitter = new LineSplitter();
    splitter.push(Buffer.from('done\nhalf'));
    expect(splitter.reset()?.toString()).toBe('half');
    expect(splitter.pendingBytes).toBe(0);
    expect(text(splitter.push(Buffer.from('new\n')))).toEqual(['new']);
  });
});
