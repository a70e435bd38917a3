/**
 * Inputs that are streams rather than files: `-` (standard input), and pipes or devices such as
 * `/dev/stdin`, whose size reads as 0. They are copied once into a temporary file, so the reader
 * keeps its file-based fast path and memory stays bounded whatever the stream's length. A line
 * past the maximum line length keeps only its first `maxLineBytes + 1` bytes in the copy (enough
 * for the reader to report it as too long), so a stream that never ends a line (`/dev/zero`)
 * fills neither memory nor the disk.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errnoCode } from '../errors.js';

export interface Spooled {
  inputs: string[];
  /** Temporary file → the name the user gave, for messages. */
  names: Map<string, string>;
  cleanup(): void;
}

function isStream(input: string): boolean {
  if (input === '-') return true;
  try {
    const stat = fs.statSync(input);
    return stat.isFIFO() || stat.isCharacterDevice() || stat.isSocket();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

/** Passes lines through, cutting each one after `maxLineBytes + 1` bytes. */
function capLines(maxLineBytes: number): Transform {
  let lineBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(0x0a, start);
        const stop = newline === -1 ? chunk.length : newline;
        const keep = Math.max(0, Math.min(stop - start, maxLineBytes + 1 - lineBytes));
        if (keep > 0) this.push(chunk.subarray(start, start + keep));
        lineBytes += stop - start;
        if (newline === -1) break;
        this.push(chunk.subarray(newline, newline + 1));
        lineBytes = 0;
        start = newline + 1;
      }
      callback();
    },
  });
}

export async function spoolStreams(
  inputs: readonly string[],
  stdin: NodeJS.ReadableStream,
  maxLineBytes: number,
): Promise<Spooled> {
  const names = new Map<string, string>();
  let dir: string | undefined;
  const out: string[] = [];
  for (const input of inputs) {
    if (!isStream(input)) {
      out.push(input);
      continue;
    }
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'codex-ndjson-'));
    const file = path.join(dir, `input-${out.length}.ndjson`);
    await pipeline(
      input === '-' ? stdin : fs.createReadStream(input),
      capLines(maxLineBytes),
      fs.createWriteStream(file),
    );
    names.set(file, input === '-' ? '<stdin>' : input);
    out.push(file);
  }
  return {
    inputs: out,
    names,
    cleanup: () => {
      if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
