/**
 * Inputs that are streams rather than files: `-` (standard input), and pipes or devices such as
 * `/dev/stdin`, whose size reads as 0. They are copied once into a temporary file, so the reader
 * keeps its file-based fast path and memory stays bounded whatever the stream's length.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

export async function spoolStreams(
  inputs: readonly string[],
  stdin: NodeJS.ReadableStream,
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
    await pipeline(input === '-' ? stdin : fs.createReadStream(input), fs.createWriteStream(file));
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
