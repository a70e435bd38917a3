import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tailHash } from '../../src/run-index/index-file.js';
import { StreamTail } from '../../src/run-index/stream-tail.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-tail-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the tail a writer keeps of the bytes it appended', () => {
  it('hashes as a read of the stream does, after appends of every size from 1 byte to past the tail', () => {
    const file = path.join(dir, 'stream');
    const fd = fs.openSync(file, 'w+');
    const tail = new StreamTail();
    let size = 0;
    let seed = 7;
    const checked: number[] = [];
    for (const length of [1, 5, 30, 1, 63, 64, 65, 2, 200, 3, 17, 64, 1, 1, 1, 500, 40]) {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = (seed = (seed * 1103515245 + 12345) % 2147483648) & 0xff;
      fs.writeSync(fd, bytes, 0, length, size);
      tail.appended(bytes, size);
      size += length;
      expect({ size, hash: tail.hashAt(size) }).toEqual({ size, hash: tailHash(fd, size) });
      checked.push(size);
    }
    fs.closeSync(fd);
    expect(checked.at(-1)).toBe(fs.statSync(file).size);
  });

  it('does not answer for an end it has not seen the bytes up to, or after a gap in the appends', () => {
    const tail = new StreamTail();
    tail.appended(Buffer.alloc(100, 1), 0);
    expect(tail.hashAt(100)).toBeDefined();
    expect(tail.hashAt(99)).toBeUndefined();
    expect(tail.hashAt(101)).toBeUndefined();
    // Bytes 100..110 were never shown: the 10 bytes after the gap are too few for a tail.
    tail.appended(Buffer.alloc(10, 2), 110);
    expect(tail.hashAt(120)).toBeUndefined();
    tail.appended(Buffer.alloc(64, 3), 120);
    expect(tail.hashAt(184)).toBeDefined();
  });
});
